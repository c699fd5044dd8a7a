// Paths in `train` blocks that leave the workspace (`..`, absolute, symlinks pointing out) are
// refused with NN4006 in `nn check`, `nn train` and the editor, and nothing is written outside.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TrainResult } from '../../server/src/protocol.js';
import { LspClient } from '../server/lspClient.js';
import { assertCleanFailure, nn, npyBytes, tempWorkspace, writeFiles } from './harness.js';

function modelText(data: string, save = 'run'): string {
  return [
    'model M(x: [B, 2]) -> [B, 3] {',
    '  return x |> Linear(2, 8) |> relu |> Linear(8, 3)',
    '}',
    '',
    'train M {',
    `  data   = ${data}`,
    '  epochs = 1',
    '  batch  = 3',
    `  save   = "${save}"`,
    '}',
    '',
  ].join('\n');
}

const dataLine = 5;
const saveLine = 8;
const validData = {
  'x.npy': npyBytes('float32', [6, 2], [0, 1, 1, 0, 0.5, 0.5, 1, 1, 0, 0, 0.2, 0.8]),
  'y.npy': npyBytes('int64', [6], [0, 1, 2, 0, 1, 2]),
};

/** A workspace and, beside it, a folder outside it holding valid data. */
function layout(): { workspace: string; outside: string } {
  const root = tempWorkspace('paths');
  const workspace = join(root, 'workspace');
  const outside = join(root, 'outside');
  mkdirSync(workspace);
  mkdirSync(outside);
  writeFiles(outside, validData);
  return { workspace, outside };
}

const lexicalCases: { name: string; text: (outside: string) => string; line: number }[] = [
  { name: 'a data path with ..', text: () => modelText('npy(x = "../outside/x.npy", y = "../outside/y.npy")'), line: dataLine },
  { name: 'an absolute data path', text: (outside) => modelText(`npy(x = "${outside}/x.npy", y = "${outside}/y.npy")`), line: dataLine },
  { name: 'a CSV path with ..', text: () => modelText('csv("sub/../../outside/t.csv", label = "y")'), line: dataLine },
  { name: 'a save folder with ..', text: () => modelText('npy(x = "x.npy", y = "y.npy")', '../outside/run'), line: saveLine },
  { name: 'an absolute save folder', text: (outside) => modelText('npy(x = "x.npy", y = "y.npy")', `${outside}/run`), line: saveLine },
];

describe('paths that leave the workspace: NN4006 in the CLI', () => {
  for (const c of lexicalCases) {
    it(`${c.name}: nn check and nn train refuse it, nothing is written outside`, () => {
      const { workspace, outside } = layout();
      writeFiles(workspace, { ...validData, 'model.nn': c.text(outside) });
      const check = nn(['check', 'model.nn'], workspace);
      assertCleanFailure(check, `nn check (${c.name})`);
      assert.match(check.output, new RegExp(`model\\.nn:${c.line + 1}:\\d+: error NN4006`), check.output);
      const train = nn(['train', 'model.nn'], workspace);
      assertCleanFailure(train, `nn train (${c.name})`);
      assert.match(train.output, /NN4006/);
      assert.deepEqual(readdirSync(outside).sort(), Object.keys(validData).sort(), 'nothing was written outside');
    });
  }
});

describe('paths that leave the workspace: NN4006 in the editor', () => {
  let client: LspClient;
  const { workspace, outside } = layout();
  before(async () => {
    writeFiles(workspace, validData);
    client = await LspClient.start({ workspaceFolder: workspace, initializationOptions: { trusted: true } });
  });
  after(() => client.stop());

  lexicalCases.forEach((c, i) => {
    it(`${c.name}: an NN4006 diagnostic on its line, and ▶ Train is refused`, async () => {
      const uri = await client.open(join(workspace, `case${i}.nn`), c.text(outside));
      const { diagnostics } = await client.diagnosticsFor(uri, 1, 30_000);
      const found = diagnostics.find((d) => d.code === 'NN4006');
      assert.ok(found, `no NN4006 among ${JSON.stringify(diagnostics)}`);
      assert.equal(found.range.start.line, c.line);
      const result = await client.request<TrainResult>('nn/train', { uri });
      assert.equal(result.reason, 'error', result.message);
      assert.deepEqual(readdirSync(outside).sort(), Object.keys(validData).sort(), 'nothing was written outside');
    });
  });
});

describe('symlinks and the opt-in setting', () => {
  it('a data folder that is a symlink pointing out of the workspace gives NN4006', () => {
    const { workspace, outside } = layout();
    symlinkSync(outside, join(workspace, 'data'));
    writeFiles(workspace, { 'model.nn': modelText('npy(x = "data/x.npy", y = "data/y.npy")') });
    const check = nn(['check', 'model.nn'], workspace);
    assert.match(check.output, /NN4006/, check.output);
  });

  it('the language server never writes through a save folder that is a symlink pointing out', async () => {
    const { workspace, outside } = layout();
    writeFiles(workspace, { ...validData, 'model.nn': modelText('npy(x = "x.npy", y = "y.npy")', 'out') });
    symlinkSync(outside, join(workspace, 'out'));
    const client = await LspClient.start({ workspaceFolder: workspace, initializationOptions: { trusted: true } });
    try {
      const uri = await client.open(join(workspace, 'model.nn'));
      const result = await client.request<TrainResult>('nn/train', { uri });
      assert.equal(result.reason, 'error', `the run was not refused: ${result.message}`);
      assert.deepEqual(readdirSync(outside).sort(), Object.keys(validData).sort(), 'nothing was written outside');
    } finally {
      await client.stop();
    }
  });

  it('nn.allowPathsOutsideWorkspace lets a data path leave the workspace', async () => {
    const { workspace, outside } = layout();
    const client = await LspClient.start({ workspaceFolder: workspace, settings: { allowPathsOutsideWorkspace: true } });
    try {
      const uri = await client.open(join(workspace, 'model.nn'), modelText('npy(x = "../outside/x.npy", y = "../outside/y.npy")'));
      const { diagnostics } = await client.diagnosticsFor(uri, 1, 30_000);
      assert.deepEqual(diagnostics.filter((d) => d.severity === 1), [], JSON.stringify(diagnostics));
      assert.ok(existsSync(join(outside, 'x.npy')));
    } finally {
      await client.stop();
    }
  });
});
