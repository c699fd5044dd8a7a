// Data sets: the generators are deterministic, each file format loads, and every kind of bad
// file gives an NN4005 error value naming the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isDataError, loadDataset, readDataHeader, type Dataset } from '../../engine/src/data/index.js';
import type { DataSpec } from '../../engine/src/lang/api.js';
import { FASHION_SUBSET } from '../../engine/src/data/images.js';
import { DEBIAN_DATASETS_DIR, type DataSources } from '../../engine/src/data/sources.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-data-'));

function npyBytes(descr: string, shape: number[], data: ArrayBufferView, version = 1): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefix = version === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((prefix + header.length) % 64)) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function idxBytes(typeCode: number, shape: number[], body: Buffer): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = typeCode;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, body]);
}

function file(name: string, content: string | Buffer): string {
  writeFileSync(join(dir, name), content);
  return name;
}

function load(spec: DataSpec): Dataset {
  const result = loadDataset(spec, dir);
  if (isDataError(result)) assert.fail(result.message);
  return result;
}

function expectNN4005(spec: DataSpec, path: string, problem: RegExp): void {
  const result = loadDataset(spec, dir);
  assert.ok(isDataError(result), `expected an error for ${JSON.stringify(spec)}`);
  assert.equal(result.code, 'NN4005');
  assert.ok(result.message.startsWith(`${path}: `), result.message);
  assert.match(result.message, problem);
  const header = readDataHeader(dir)(spec);
  assert.ok('error' in header, 'the header reader reports the problem too');
}

test('spirals, moons and xor are deterministic with the documented sizes', () => {
  const a = load({ kind: 'spirals', classes: 3, points: 50 });
  const b = load({ kind: 'spirals', classes: 3, points: 50 });
  assert.deepEqual(a.train.inputs, b.train.inputs);
  assert.equal(a.train.count, 150);
  assert.deepEqual([...new Set(a.train.targets)].sort(), [0, 1, 2]);
  assert.notDeepEqual(a.train.inputs, a.test!.inputs, 'the test split is a separate draw');
  const radii = Array.from({ length: 150 }, (_, i) => Math.hypot(a.train.inputs[2 * i], a.train.inputs[2 * i + 1]));
  assert.equal(radii.filter((r) => Math.abs(r - 1) < 1e-6).length, 3, 'each arm ends at radius 1');
  assert.ok(new Set(a.train.targets.subarray(0, 15)).size === 3, 'samples are stored in a shuffled order');
  const m = load({ kind: 'moons', points: 101 });
  assert.equal(m.train.count, 101);
  assert.equal(m.train.targets.filter((t) => t === 1).length, 51);
  const x = load({ kind: 'xor' });
  assert.deepEqual([...x.train.targets], [0, 1, 1, 0]);
});

test('fashion_mnist loads the bundled subset scaled to [0, 1]', () => {
  const f = load({ kind: 'fashion_mnist', train: 100, test: 20 });
  assert.deepEqual(f.sampleShape, [1, 28, 28]);
  assert.equal(f.train.inputs.length, 100 * 784);
  assert.equal(f.test!.count, 20);
  assert.ok(f.train.inputs.every((v) => v >= 0 && v <= 1));
  assert.ok(f.train.targets.every((v) => Number.isInteger(v) && v >= 0 && v < 10));
  assert.deepEqual(readDataHeader(dir)({ kind: 'fashion_mnist', train: 100, test: 20 }), { sampleShape: [1, 28, 28], classes: 10, labelShape: [] });
  const tooMany = loadDataset({ kind: 'fashion_mnist', train: 70000, test: 10 }, dir);
  assert.ok(isDataError(tooMany) && /60000 training/.test(tooMany.message));
});

test('requests beyond the subset read Debian\'s full set when installed, else need a download first', () => {
  const spec = { kind: 'fashion_mnist' as const, train: FASHION_SUBSET.train + 10, test: 10 };
  const emptyCache = mkdtempSync(join(tmpdir(), 'nn-cache-'));
  const withoutSystem: DataSources = { cacheDir: emptyCache, mirror: null, systemDir: null, checksums: {} };
  const missing = loadDataset(spec, dir, { sources: withoutSystem });
  assert.ok(isDataError(missing));
  assert.match(missing.message, /not downloaded yet \(30\.9 MB from http:\/\/fashion-mnist/);
  if (existsSync(join(DEBIAN_DATASETS_DIR, 'fashion-mnist'))) {
    const result = loadDataset(spec, dir, { sources: { ...withoutSystem, systemDir: DEBIAN_DATASETS_DIR } });
    if (isDataError(result)) assert.fail(result.message);
    const subset = load({ kind: 'fashion_mnist', train: FASHION_SUBSET.train, test: 10 });
    assert.equal(result.train.count, FASHION_SUBSET.train + 10);
    assert.deepEqual(result.train.inputs.subarray(0, subset.train.inputs.length), subset.train.inputs, 'the subset is the start of the full set');
    assert.deepEqual(result.train.targets.subarray(0, FASHION_SUBSET.train), subset.train.targets);
  }
});

test('csv through csv-parse: quoted cells, a BOM, semicolons, tabs, CRLF and blank lines', () => {
  const quoted = load({ kind: 'csv', path: file('quoted.csv', '\uFEFF"first, feature","label"\r\n"1.5",0\r\n\r\n" 2 ","1"\r\n'), label: 'label' });
  assert.deepEqual(Array.from(quoted.train.inputs), [1.5, 2]);
  assert.deepEqual(Array.from(quoted.train.targets), [0, 1]);
  assert.equal(quoted.sampleShape[0], 1, 'a comma inside quotes is not a delimiter');
  const semicolons = load({ kind: 'csv', path: file('semi.csv', 'a;b;label\n1;2;0\n3;4;1\n'), label: 'label' });
  assert.deepEqual(semicolons.sampleShape, [2]);
  assert.deepEqual(Array.from(semicolons.train.inputs), [1, 2, 3, 4]);
  const tabs = load({ kind: 'csv', path: file('tabs.tsv', 'label\ta\n1\t-0.5\n0\t1e3\n'), label: 'label' });
  assert.deepEqual(Array.from(tabs.train.inputs), [-0.5, 1000]);
  assert.deepEqual(readDataHeader(dir)({ kind: 'csv', path: 'semi.csv', label: 'label' }), { sampleShape: [2], classes: 2, labelShape: [], inputIds: { min: 1, max: 4 } });
  expectNN4005({ kind: 'csv', path: file('open.csv', 'a,label\n"1,0\n2,1\n'), label: 'label' }, 'open.csv', /not valid CSV: Quote Not Closed/);
  expectNN4005({ kind: 'csv', path: file('gap.csv', 'a,label\n1,0\n\n2\n'), label: 'label' }, 'gap.csv', /line 4 has 1 cells, the header has 2/);
});

test('npy (v1 and v2; float32, float64, int64, uint8) and its header', () => {
  const x = file('x.npy', npyBytes('<f8', [3, 2], Float64Array.from([1, 2, 3, 4, 5, 6]), 2));
  const y = file('y.npy', npyBytes('<i8', [3], BigInt64Array.from([0n, 2n, 1n])));
  const d = load({ kind: 'npy', x, y });
  assert.deepEqual(d.sampleShape, [2]);
  assert.equal(d.classes, 3);
  assert.deepEqual([...d.train.inputs], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(readDataHeader(dir)({ kind: 'npy', x, y }), { sampleShape: [2], classes: 3, labelShape: [] });
  const xu8 = file('xu8.npy', npyBytes('|u1', [3, 1], Uint8Array.from([0, 255, 51])));
  assert.deepEqual([...load({ kind: 'npy', x: xu8, y }).train.inputs].map((v) => Math.round(v * 100) / 100), [0, 1, 0.2]);
  const yf = file('yf.npy', npyBytes('<f4', [3, 1], Float32Array.from([0.5, 1.5, 2])));
  const regression = load({ kind: 'npy', x, y: yf });
  assert.equal(regression.classes, null);
  assert.deepEqual(regression.labelShape, [1]);
});

test('idx (plain and gzipped) and its header', () => {
  const images = idxBytes(0x08, [2, 2, 2], Buffer.from([0, 255, 0, 255, 255, 0, 255, 0]));
  const labels = idxBytes(0x08, [2], Buffer.from([1, 0]));
  const plain = load({ kind: 'idx', images: file('i.idx', images), labels: file('l.idx', labels) });
  const zipped = load({ kind: 'idx', images: file('i.idx.gz', gzipSync(images)), labels: file('l.idx.gz', gzipSync(labels)) });
  assert.deepEqual(plain.sampleShape, [1, 2, 2]);
  assert.deepEqual(plain.train.inputs, zipped.train.inputs);
  assert.deepEqual([...zipped.train.targets], [1, 0]);
  assert.deepEqual(readDataHeader(dir)({ kind: 'idx', images: 'i.idx.gz', labels: 'l.idx' }), { sampleShape: [1, 2, 2], classes: 2, labelShape: [] });
});

test('csv with a label column', () => {
  const path = file('d.csv', 'a,label,b\n1,0,2\n3,1,4.5\n');
  const d = load({ kind: 'csv', path, label: 'label' });
  assert.deepEqual(d.sampleShape, [2]);
  assert.equal(d.classes, 2);
  assert.deepEqual([...d.train.inputs], [1, 2, 3, 4.5]);
});

test('every kind of bad file gives NN4005 with the path and the problem', () => {
  const y = file('y3.npy', npyBytes('<i8', [3], BigInt64Array.from([0n, 1n, 1n])));
  expectNN4005({ kind: 'npy', x: 'missing.npy', y }, 'missing.npy', /file not found/);
  expectNN4005({ kind: 'npy', x: file('empty.npy', ''), y }, 'empty.npy', /empty file/);
  const full = npyBytes('<f4', [3, 2], new Float32Array(6));
  expectNN4005({ kind: 'npy', x: file('trunc.npy', full.subarray(0, full.length - 5)), y }, 'trunc.npy', /truncated/);
  expectNN4005({ kind: 'npy', x: file('notnpy.npy', 'hello world, not numpy'), y }, 'notnpy.npy', /not a .npy file/);
  expectNN4005({ kind: 'npy', x: file('big.npy', npyBytes('>f4', [3, 2], new Float32Array(6))), y }, 'big.npy', /big-endian/);
  const negative = file('neg.npy', npyBytes('<i8', [3], BigInt64Array.from([0n, -1n, 1n])));
  expectNN4005({ kind: 'npy', x: file('ok.npy', full), y: negative }, 'neg.npy', /out of range/);
  const short = file('short.npy', npyBytes('<i8', [2], BigInt64Array.from([0n, 1n])));
  expectNN4005({ kind: 'npy', x: 'ok.npy', y: short }, 'short.npy', /2 labels but the inputs have 3/);

  const labels = file('l2.idx', idxBytes(0x08, [2], Buffer.from([0, 1])));
  expectNN4005({ kind: 'idx', images: file('magic.idx', Buffer.from([8, 3, 0, 0, 1, 2, 3, 4])), labels }, 'magic.idx', /wrong IDX magic/);
  expectNN4005({ kind: 'idx', images: file('short.idx', idxBytes(0x08, [2, 2, 2], Buffer.from([1, 2, 3]))), labels }, 'short.idx', /truncated data/);
  expectNN4005({ kind: 'idx', images: file('e.idx', ''), labels }, 'e.idx', /empty file/);
  expectNN4005({ kind: 'idx', images: file('bad.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5])), labels }, 'bad.gz', /gzip/);

  expectNN4005({ kind: 'csv', path: file('ragged.csv', 'a,label\n1,0\n2\n'), label: 'label' }, 'ragged.csv', /line 3 has 1 cells, the header has 2/);
  expectNN4005({ kind: 'csv', path: file('text.csv', 'a,label\n1,0\nfoo,1\n'), label: 'label' }, 'text.csv', /line 3, column 'a': 'foo' is not a number/);
  expectNN4005({ kind: 'csv', path: file('nolabel.csv', 'a,b\n1,0\n'), label: 'label' }, 'nolabel.csv', /no column 'label'/);
  expectNN4005({ kind: 'csv', path: file('empty.csv', ''), label: 'label' }, 'empty.csv', /empty file/);
  expectNN4005({ kind: 'csv', path: '.', label: 'label' }, '.', /folder/);
});

test('npy: integer labels [N, T] are class ids per position (token ids in, next tokens out)', () => {
  const x = file('tokens_x.npy', npyBytes('<i8', [3, 4], BigInt64Array.from([0, 1, 2, 3, 1, 2, 3, 0, 2, 3, 0, 1], BigInt)));
  const y = file('tokens_y.npy', npyBytes('<i8', [3, 4], BigInt64Array.from([1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2], BigInt)));
  const data = load({ kind: 'npy', x, y });
  assert.deepEqual([data.sampleShape, data.labelShape, data.classes], [[4], [4], 4]);
  const header = readDataHeader(dir)({ kind: 'npy', x, y });
  assert.ok(!('error' in header));
  assert.deepEqual([header.labelShape, header.classes, header.inputIds], [[4], 4, { min: 0, max: 3 }]);
});

test('text: character ids in code-point order, next characters as labels, the last fraction as the test split', () => {
  const path = file('abc.txt', 'abcabcabcabcabcabcba');
  const data = load({ kind: 'text', path, block: 3, stride: 2, test: 0.25 });
  assert.deepEqual([data.sampleShape, data.labelShape, data.classes], [[3], [3], 3]);
  // The first 15 characters train: windows at 0, 2, …, 10; the last 5 test: one window.
  assert.equal(data.train.count, 6);
  assert.deepEqual([...data.train.inputs.subarray(0, 6)], [0, 1, 2, 2, 0, 1]);
  assert.deepEqual([...data.train.targets.subarray(0, 3)], [1, 2, 0]);
  assert.equal(data.test?.count, 1);
  assert.deepEqual([[...data.test!.inputs], [...data.test!.targets]], [[0, 1, 2], [1, 2, 1]]); // 'abc' then 'bcb' of 'abcba'
  const short = loadDataset({ kind: 'text', path: file('tiny.txt', 'ab'), block: 3, stride: 1, test: 0 }, dir);
  assert.ok(isDataError(short) && /holds 2 characters; a block of 3 needs at least 4/.test(short.message), JSON.stringify(short));
});
