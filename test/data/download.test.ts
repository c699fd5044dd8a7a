// Downloads of the built-in image sets against a real HTTP server on 127.0.0.1 serving
// generated files in the official formats: resume after a dropped connection and across
// runs (HTTP Range), a server that ignores Range, checksum mismatch, offline, MNIST and
// CIFAR-10 end to end, and what the checker says before and after.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '../../engine/src/data/catalog.js';
import { downloadFile, type DownloadProgress } from '../../engine/src/data/download.js';
import { fetchData } from '../../engine/src/data/fetch.js';
import { isDataError, loadDataset, readDataHeader } from '../../engine/src/data/index.js';
import type { DataSources } from '../../engine/src/data/sources.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { TestMirror, bytes, cifarArchive, mnistFiles, imageModel } from './mirror.js';

const mirror = new TestMirror();
let base = '';

before(async () => {
  base = await mirror.start();
});
after(() => mirror.close());

function freshCache(): string {
  return mkdtempSync(join(tmpdir(), 'nn-cache-'));
}

function md5(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex');
}

/** A port on 127.0.0.1 with nothing listening: connecting is refused, as offline. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const fileJob = (name: string) => ({ title: 'Test', file: name, setBefore: 0, setTotal: 0 });

test('a dropped connection is resumed with a Range request and the file verifies', async () => {
  const body = Buffer.from(bytes(300_000, 7));
  mirror.files.set('/t/resume.bin', body);
  mirror.dropOnce.set('/t/resume.bin', 120_000);
  const dest = join(freshCache(), 'resume.bin');
  const seen: DownloadProgress[] = [];
  mirror.requests.length = 0;
  const problem = await downloadFile(`${base}/t/resume.bin`, dest, { md5: md5(body), bytes: body.length }, fileJob('resume.bin'), { onProgress: (p) => seen.push(p) });
  assert.equal(problem, null);
  assert.deepEqual(readFileSync(dest), body);
  assert.ok(!existsSync(`${dest}.part`));
  assert.deepEqual(mirror.requests.map((r) => r.range), [undefined, 'bytes=120000-']);
  assert.equal(seen.at(-1)!.received, body.length);
  assert.ok(seen.every((p, i) => i === 0 || p.received >= seen[i - 1].received), 'progress never goes back');
});

test('a cancelled download keeps its part, and the next run resumes where it stopped', async () => {
  const body = Buffer.from(bytes(400_000, 8));
  mirror.files.set('/t/later.bin', body);
  mirror.dropOnce.set('/t/later.bin', 150_000);
  const dest = join(freshCache(), 'later.bin');
  const controller = new AbortController();
  const first = await downloadFile(`${base}/t/later.bin`, dest, { md5: md5(body), bytes: body.length }, fileJob('later.bin'), {
    signal: controller.signal,
    onProgress: (p) => p.received >= 150_000 && controller.abort(),
  });
  assert.match(first ?? '', /cancelled \(150000 of 400000 bytes kept for the next run\)/);
  assert.equal(statSync(`${dest}.part`).size, 150_000);
  mirror.requests.length = 0;
  const seen: DownloadProgress[] = [];
  assert.equal(await downloadFile(`${base}/t/later.bin`, dest, { md5: md5(body), bytes: body.length }, fileJob('later.bin'), { onProgress: (p) => seen.push(p) }), null);
  assert.deepEqual(mirror.requests.map((r) => r.range), ['bytes=150000-']);
  assert.equal(seen[0].resumedFrom, 150_000);
  assert.deepEqual(readFileSync(dest), body);
});

test('a server that ignores Range sends the whole file again, which replaces the part', async () => {
  const body = Buffer.from(bytes(200_000, 9));
  mirror.files.set('/t/norange.bin', body);
  mirror.dropOnce.set('/t/norange.bin', 50_000);
  mirror.ignoreRange = true;
  try {
    const dest = join(freshCache(), 'norange.bin');
    assert.equal(await downloadFile(`${base}/t/norange.bin`, dest, { md5: md5(body), bytes: body.length }, fileJob('norange.bin')), null);
    assert.deepEqual(readFileSync(dest), body);
  } finally {
    mirror.ignoreRange = false;
  }
});

test('a checksum mismatch is refused and nothing is kept', async () => {
  const body = Buffer.from(bytes(10_000, 10));
  mirror.files.set('/t/bad.bin', body);
  const dest = join(freshCache(), 'bad.bin');
  const problem = await downloadFile(`${base}/t/bad.bin`, dest, { md5: '0'.repeat(32), bytes: body.length }, fileJob('bad.bin'));
  assert.match(problem ?? '', new RegExp(`^checksum mismatch for ${base}/t/bad\\.bin: MD5 ${md5(body)}, expected 0{32}; the file was removed`));
  assert.ok(!existsSync(dest) && !existsSync(`${dest}.part`));
  const short = await downloadFile(`${base}/t/bad.bin`, dest, { md5: md5(body), bytes: body.length + 5 }, fileJob('bad.bin'));
  assert.match(short ?? '', /sent 10000 bytes, 10005 expected/);
});

test('HTTP errors and an unreachable host give a sentence, not an exception', async () => {
  const dest = join(freshCache(), 'x.bin');
  assert.match((await downloadFile(`${base}/t/none.bin`, dest, { md5: '', bytes: 1 }, fileJob('x.bin'))) ?? '', /HTTP 404 Not Found/);
  const port = await closedPort();
  const offline = await downloadFile(`http://127.0.0.1:${port}/x.bin`, dest, { md5: '', bytes: 1 }, fileJob('x.bin'));
  assert.match(offline ?? '', /cannot download http:\/\/127\.0\.0\.1:\d+\/x\.bin: ECONNREFUSED 127\.0\.0\.1:\d+\. Are you offline\? Copy the files into .*, or set nn\.dataMirror \(NN_DATA_MIRROR\)/);
});

const MODEL = imageModel('mnist(train = 50, test = 20)');

test('mnist(): the checker notes the download, the run fetches and verifies it, then the checker is quiet', async () => {
  const { files, trainImages, trainLabels } = mnistFiles(60, 20);
  for (const [name, body] of Object.entries(files)) mirror.files.set(`/mnist/${name}`, body);
  const sources: DataSources = { cacheDir: freshCache(), mirror: base, systemDir: null, checksums: mirror.checksums() };
  const spec = { kind: 'mnist' as const, train: 50, test: 20 };

  const before = checkProgram(MODEL, { readDataHeader: readDataHeader('/', { sources }) }).diagnostics;
  assert.deepEqual(before.map((d) => [d.code, d.severity]), [['NN4008', 'info']]);
  assert.equal(before[0].message, `MNIST is not on this machine yet: the first run downloads ${formatBytes(Object.values(files).reduce((n, b) => n + b.length, 0))} from ${base} into ${join(sources.cacheDir, 'mnist')}`);
  assert.match((loadDataset(spec, '/', { sources }) as { message: string }).message, /MNIST is not downloaded yet/);

  const seen: DownloadProgress[] = [];
  assert.equal(await fetchData(spec, sources, { onProgress: (p) => seen.push(p) }), null);
  assert.deepEqual([...new Set(seen.map((p) => p.file))], Object.keys(files));
  const last = seen.at(-1)!;
  assert.equal(last.setReceived, last.setTotal, 'the set total counts every file');

  assert.deepEqual(checkProgram(MODEL, { readDataHeader: readDataHeader('/', { sources }) }).diagnostics, []);
  const data = loadDataset(spec, '/', { sources });
  if (isDataError(data)) assert.fail(data.message);
  assert.deepEqual(data.sampleShape, [1, 28, 28]);
  assert.equal(data.train.count, 50);
  assert.deepEqual(Array.from(data.train.inputs.subarray(0, 784), (v) => Math.round(v * 255)), Array.from(trainImages.subarray(0, 784)));
  assert.deepEqual(Array.from(data.train.targets), Array.from(trainLabels.subarray(0, 50)));
  mirror.requests.length = 0;
  assert.equal(await fetchData(spec, sources), null);
  assert.equal(mirror.requests.length, 0, 'a cached set is not downloaded again');
});

test('cifar10(): the binary archive is downloaded, unpacked to its batch files and removed; records are [3, 32, 32]', async () => {
  const { archive, records } = await cifarArchive(4, 6);
  mirror.files.set('/cifar-10/cifar-10-binary.tar.gz', archive);
  const sources: DataSources = { cacheDir: freshCache(), mirror: base, systemDir: null, checksums: mirror.checksums() };
  const spec = { kind: 'cifar10' as const, train: 10, test: 6 };
  const header = readDataHeader('/', { sources })(spec);
  assert.ok('download' in header && header.download, 'the checker learns of the download');
  assert.equal(header.download.bytes, archive.length);
  assert.equal(await fetchData(spec, sources), null);
  assert.ok(!existsSync(join(sources.cacheDir, 'cifar-10', 'cifar-10-binary.tar.gz')), 'the archive is removed once unpacked');
  assert.ok(existsSync(join(sources.cacheDir, 'cifar-10', 'cifar-10-batches-bin', 'data_batch_5.bin')));
  const data = loadDataset(spec, '/', { sources });
  if (isDataError(data)) assert.fail(data.message);
  assert.deepEqual(data.sampleShape, [3, 32, 32]);
  assert.equal(data.classes, 10);
  // Sample 5 is the second record of data_batch_2 (4 records per batch here).
  const record = records[1].subarray(3073, 2 * 3073);
  assert.equal(data.train.targets[5], record[0]);
  assert.deepEqual(Array.from(data.train.inputs.subarray(5 * 3072, 6 * 3072), (v) => Math.round(v * 255)), Array.from(record.subarray(1)));
  assert.equal(data.test!.count, 6);
  assert.deepEqual(readDataHeader('/', { sources })(spec), { sampleShape: [3, 32, 32], classes: 10, labelShape: [] });
  const tooMany = loadDataset({ kind: 'cifar10', train: 30, test: 6 }, '/', { sources });
  assert.ok(isDataError(tooMany) && /hold 20 samples, 30 requested/.test(tooMany.message));
});

test('the checker reports NN4005 when the images cannot be had: too many asked, or no writable cache', () => {
  const sources: DataSources = { cacheDir: freshCache(), mirror: null, systemDir: null, checksums: {} };
  const check = (text: string, s = sources) => checkProgram(text, { readDataHeader: readDataHeader('/', { sources: s }) }).diagnostics.map((d) => `${d.code} ${d.message}`);
  const tooMany = MODEL.replace('mnist(train = 50, test = 20)', 'mnist(train = 70000)');
  assert.deepEqual(check(tooMany), ['NN4005 cannot read data file "mnist(train = 70000, test = 10000)": MNIST has 60000 training and 10000 test images']);
  const aFile = join(freshCache(), 'a-file');
  writeFileSync(aFile, '');
  const blocked = check(MODEL, { ...sources, cacheDir: join(aFile, 'cache') });
  assert.equal(blocked.length, 1);
  assert.match(blocked[0], /^NN4005 .*MNIST is not on this machine and cannot be downloaded: the cache folder .*a-file\/cache\/mnist is not writable/);
  assert.deepEqual(check(MODEL.replace('mnist(train = 50, test = 20)', 'fashion_mnist(train = 6000, test = 1000)')), [], 'the bundled subset needs no download');
  const full = check(MODEL.replace('mnist(train = 50, test = 20)', 'fashion_mnist(train = 60000)'));
  assert.deepEqual(full.map((d) => d.split(' ')[0]), ['NN4008'], 'the full set beyond the subset is a download');
  assert.match(full[0], /first run downloads 30\.9 MB from http:\/\/fashion-mnist\.s3-website\.eu-central-1\.amazonaws\.com\//);
});

test('an offline run fails with NN4005 at the data value and keeps nothing half-made', async () => {
  const port = await closedPort();
  const sources: DataSources = { cacheDir: freshCache(), mirror: `http://127.0.0.1:${port}`, systemDir: null, checksums: {} };
  const problem = await fetchData({ kind: 'mnist', train: 10, test: 10 }, sources);
  assert.ok(problem);
  assert.equal(problem.code, 'NN4005');
  assert.match(problem.message, /^mnist\(train = 10, test = 10\): cannot download http:\/\/127\.0\.0\.1:\d+\/mnist\/train-images-idx3-ubyte\.gz: ECONNREFUSED/);
  assert.ok(!existsSync(join(sources.cacheDir, 'mnist', 'train-images-idx3-ubyte.gz')));
});
