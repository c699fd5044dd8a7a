// `nn check`, `nn train` and `nn probe` with a built-in set that is not on the machine, as
// a user runs them (the built dist/cli.js): the NN4008 note, the download's progress lines
// on stderr (a bar redrawn in place on a terminal), a second run that downloads nothing,
// and offline: NN4005 at the `data` line, exit 1, no stack trace.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadReporter } from '../../engine/src/cli/downloadProgress.js';
import { TestMirror, mnistFiles, imageModel } from './mirror.js';

const cli = resolve(__dirname, '..', '..', 'dist', 'cli.js');
const mirror = new TestMirror();
let base = '';
let work = '';
let env: NodeJS.ProcessEnv;

const MODEL = imageModel('mnist(train = 30, test = 10)');

before(async () => {
  for (const [name, body] of Object.entries(mnistFiles(30, 10).files)) mirror.files.set(`/mnist/${name}`, body);
  base = await mirror.start();
  work = mkdtempSync(join(tmpdir(), 'nn-cli-data-'));
  writeFileSync(join(work, 'checksums.json'), JSON.stringify(mirror.checksums()));
  writeFileSync(join(work, 'digits.nn'), MODEL);
  env = { ...process.env, NN_DATA_CACHE: join(work, 'cache'), NN_DATA_CHECKSUMS: join(work, 'checksums.json'), NN_DATA_SYSTEM_DIR: '' };
});
after(async () => {
  await mirror.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs the CLI without blocking this process, whose event loop serves the mirror. */
function nn(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [cli, ...args], { cwd: work, env, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolvePromise({ status, stdout, stderr });
    });
  });
}

test('nn check notes the download; nn train downloads with progress lines, then trains; a second run downloads nothing', async () => {
  const check = await nn(['check', 'digits.nn', '--data-mirror', base]);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /digits\.nn:6:10: info NN4008: MNIST is not on this machine yet: the first run downloads [\d.]+ kB from http:\/\/127\.0\.0\.1:\d+ into /);
  const first = await nn(['train', 'digits.nn', '--data-mirror', base]);
  assert.equal(first.status, 0, first.stdout + first.stderr);
  for (const file of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
    assert.match(first.stderr, new RegExp(`downloading ${base}/mnist/${file.replace(/\./g, '\\.')} \\([\\d.]+ k?B\\)\\nreceived ${file.replace(/\./g, '\\.')} \\([\\d.]+ k?B\\); checking its MD5\\n`));
  }
  assert.match(first.stdout, /training finished after 3 steps/);
  mirror.requests.length = 0;
  const second = await nn(['probe', 'digits.nn', '--data-mirror', base]);
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.equal(second.stderr, '');
  assert.equal(mirror.requests.length, 0);
  assert.doesNotMatch((await nn(['check', 'digits.nn'])).stdout, /NN4008/, 'no note once cached');
});

test('offline, nn train stops with NN4005 at the data line and no stack trace', async () => {
  const cifar = imageModel('cifar10(train = 10, test = 10)', { image: '[B, 3, 32, 32]' });
  writeFileSync(join(work, 'offline.nn'), cifar);
  const result = await nn(['train', 'offline.nn', '--data-mirror', 'http://127.0.0.1:9']);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^offline\.nn:6:10: error NN4005: cannot read data file "cifar10\(train = 10, test = 10\)": cannot download http:\/\/127\.0\.0\.1:9\/cifar-10\/cifar-10-binary\.tar\.gz: ECONNREFUSED 127\.0\.0\.1:9\. Are you offline\?/m);
  assert.doesNotMatch(result.stderr, /\n\s+at |internal error/);
});

test('on a terminal the bar is redrawn in place, at most ten times a second, and ends its line', () => {
  let now = 0;
  let out = '';
  const report = downloadReporter((s) => (out += s), true, () => now);
  const progress = { title: 'MNIST', file: 'a.gz', url: 'http://x/a.gz', total: 2_000_000, resumedFrom: 0, setReceived: 0, setTotal: 2_000_000 };
  report({ ...progress, received: 0 });
  now = 50;
  report({ ...progress, received: 500_000 }); // within 100 ms: not drawn
  now = 1000;
  report({ ...progress, received: 1_000_000 });
  now = 2000;
  report({ ...progress, received: 2_000_000 });
  const frames = out.split('\r').filter(Boolean);
  assert.equal(frames.length, 3);
  assert.match(frames[1], /^downloading MNIST a\.gz \[#{12}\.{12}\] 1\.0 MB\/2\.0 MB 1\.0 MB\/s\x1b\[K$/);
  assert.match(frames[2], /\[#{24}\] 2\.0 MB\/2\.0 MB 1\.0 MB\/s\x1b\[K\n$/);
});
