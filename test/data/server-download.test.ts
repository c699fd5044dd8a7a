// A download through the language server, as the editor sees it: the checker's NN4008 note,
// then ▶ Train downloads the set from a mirror on 127.0.0.1 (nn.dataMirror, nn.dataCache)
// with `$/progress` messages before the run's own, and the note is gone afterwards. An
// unreachable mirror fails the run with NN4005 and no exception text.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TrainResult } from '../../server/src/protocol.js';
import { HANG_GUARD_MS, LspClient } from '../server/lspClient.js';
import { TestMirror, mnistFiles, imageModel } from './mirror.js';

const MODEL = imageModel('mnist(train = 40, test = 10)', { backend: 'ts' });

const mirror = new TestMirror();
let base = '';
let workspace = '';
let client: LspClient;

before(async () => {
  for (const [name, body] of Object.entries(mnistFiles(40, 10).files)) mirror.files.set(`/mnist/${name}`, body);
  mirror.dropOnce.set('/mnist/train-images-idx3-ubyte.gz', 4000);
  base = await mirror.start();
  workspace = mkdtempSync(join(tmpdir(), 'nn-lsp-data-'));
  const checksums = join(workspace, 'checksums.json');
  writeFileSync(checksums, JSON.stringify(mirror.checksums()));
  writeFileSync(join(workspace, 'digits.nn'), MODEL);
  client = await LspClient.start({
    workspaceFolder: workspace,
    settings: { dataCache: join(workspace, 'cache'), dataMirror: base },
    env: { ...process.env, NN_DATA_CHECKSUMS: checksums, NN_DATA_SYSTEM_DIR: '' },
  });
});
after(async () => {
  await client.stop();
  await mirror.close();
  rmSync(workspace, { recursive: true, force: true });
});

test('the NN4008 note, a download with $/progress on ▶ Train, then no note', async () => {
  const uri = await client.open(join(workspace, 'digits.nn'));
  const before = await client.waitFor(() => client.published.find((p) => p.uri === uri && p.diagnostics.some((d) => d.code === 'NN4008')), HANG_GUARD_MS, 'the NN4008 note');
  const note = before.diagnostics.find((d) => d.code === 'NN4008')!;
  assert.equal(note.severity, 3, 'information');
  assert.match(note.message, new RegExp(`^MNIST is not on this machine yet: the first run downloads [\\d.]+ kB from ${base} into ${join(workspace, 'cache', 'mnist')}$`));

  const token = 'train-digits';
  const published = client.published.length;
  const result = await client.request<TrainResult>('nn/train', { uri, workDoneToken: token });
  assert.equal(result.reason, 'done', result.message);
  const progress = client.progress.filter((p) => p.token === token).map((p) => p.value);
  assert.equal(progress[0].kind, 'begin');
  assert.match(progress[0].message ?? '', /^downloading MNIST train-images-idx3-ubyte\.gz: /);
  const firstRun = progress.findIndex((v) => /parameters on ts/.test(v.message ?? ''));
  assert.ok(firstRun > 0, 'the run reports after the download');
  assert.ok(progress.slice(0, firstRun).some((v) => /t10k-labels-idx1-ubyte\.gz/.test(v.message ?? '')), 'every file is reported');
  assert.equal(progress.filter((v) => v.kind === 'begin').length, 1);
  assert.equal(progress.at(-1)!.kind, 'end');
  assert.ok(mirror.requests.some((r) => r.range !== undefined), 'the dropped connection was resumed');
  await client.waitFor(() => client.published.slice(published).find((p) => p.uri === uri && !p.diagnostics.some((d) => d.code === 'NN4008')), HANG_GUARD_MS, 'diagnostics without the note');
});

test('an unreachable mirror fails the run with NN4005, not an exception', async () => {
  const other = join(workspace, 'offline.nn');
  writeFileSync(other, imageModel('cifar10(train = 10, test = 10)', { image: '[B, 3, 32, 32]', backend: 'ts' }));
  const uri = await client.open(other);
  await client.setSettings({ dataCache: join(workspace, 'cache'), dataMirror: 'http://127.0.0.1:9' }, uri);
  const result = await client.request<TrainResult>('nn/train', { uri });
  assert.equal(result.reason, 'error');
  assert.match(result.message, /^NN4005 cannot read data file "cifar10\(train = 10, test = 10\)": cannot download http:\/\/127\.0\.0\.1:9\/cifar-10\/cifar-10-binary\.tar\.gz: ECONNREFUSED 127\.0\.0\.1:9\. Are you offline\?/);
  assert.doesNotMatch(result.message, /\n\s+at /, 'no stack trace');
});
