// .safetensors: a round trip keeps names, dtypes, shapes, values and metadata; the layout is
// the reference one (8-byte length, JSON header, aligned data); corrupt files are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeSafetensors, readSafetensors, storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-st-'));

test('round trip of F32, F64 and I64 tensors with metadata', () => {
  const path = join(dir, 'a.safetensors');
  const tensors = new Map([
    ['fc1.weight', storedTensor([2, 3], Float32Array.from([1, -2, 3.5, 4, 5, 6e-8]))],
    ['fc1.bias', storedTensor([2], Float64Array.from([Math.PI, -0]))],
    ['optim.step', storedTensor([], BigInt64Array.from([42n]))],
  ]);
  writeSafetensors(path, { tensors, metadata: { step: '42', optimizer: 'Adam' } });
  assert.deepEqual(readdirSync(dir), ['a.safetensors'], 'no temporary file is left behind');
  const back = readSafetensors(path);
  if ('error' in back) assert.fail(back.error);
  assert.deepEqual(back.metadata, { step: '42', optimizer: 'Adam' });
  assert.deepEqual([...back.tensors.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name), t);

  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0, 'data starts 8-byte aligned');
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
  assert.deepEqual(header['fc1.weight'].shape, [2, 3]);
  assert.equal(header['fc1.weight'].dtype, 'F32');
  const [begin] = header['fc1.weight'].data_offsets;
  assert.equal(bytes.readFloatLE(8 + headerLength + begin + 8), 3.5, 'raw little-endian data at the offsets');
});

test('corrupt files are refused with a message', () => {
  const good = readFileSync(join(dir, 'a.safetensors'));
  assert.match((decodeSafetensors(good.subarray(0, 5)) as { error: string }).error, /not a .safetensors/);
  assert.match((decodeSafetensors(good.subarray(0, good.length - 4)) as { error: string }).error, /beyond the end|truncated/);
  const badJson = Buffer.from(good);
  badJson[9] = 0x7b; // '{' inside the JSON makes it invalid
  badJson[8] = 0x5b;
  assert.match((decodeSafetensors(badJson) as { error: string }).error, /JSON/);
  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(1n << 40n, 0);
  assert.match((decodeSafetensors(huge) as { error: string }).error, /header length/);
  writeFileSync(join(dir, 'b.safetensors'), '');
  assert.ok('error' in readSafetensors(join(dir, 'b.safetensors')));
  assert.match((readSafetensors(join(dir, 'missing.safetensors')) as { error: string }).error, /not found/);
});

test('a write removes temporaries left by killed writers and creates a missing folder', () => {
  const folder = join(dir, 'gone', 'run');
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid; // exited: its pid is not running
  const liveTemporary = `.c.safetensors.${process.ppid}.tmp`; // a running process may still be writing
  writeSafetensors(join(folder, 'c.safetensors'), { tensors: new Map(), metadata: {} });
  writeFileSync(join(folder, `.c.safetensors.${deadPid}.tmp`), 'torn');
  writeFileSync(join(folder, liveTemporary), 'in progress');
  writeSafetensors(join(folder, 'c.safetensors'), { tensors: new Map([['w', storedTensor([1], Float32Array.from([1]))]]), metadata: {} });
  assert.deepEqual(readdirSync(folder).sort(), [liveTemporary, 'c.safetensors'].sort());
});
