// Limits against hostile files: a model over the parameter or activation-memory limit is
// refused before anything is allocated (NN4002 with the computed size), in `nn check` and `nn train`, in the
// engine's run preparation and the CLI (configurable limits) and in the editor (`nn.limits.*` settings);
// absurd dims (1e12) are checked without allocating.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prepare } from '../../engine/src/run/prepare.js';
import type { TrainResult } from '../../server/src/protocol.js';
import { LspClient } from '../server/lspClient.js';
import { assertCleanFailure, nn, tempWorkspace, writeFiles } from './harness.js';

function modelText(layers: string, batch = 32): string {
  return [
    'model M(x: [B, 2]) -> [B, 3] {',
    `  return x |> ${layers}`,
    '}',
    '',
    'train M {',
    '  data   = spirals(classes = 3, points = 30)',
    '  epochs = 1',
    `  batch  = ${batch}`,
    '}',
    '',
  ].join('\n');
}

/** 2*1e6 + 1e6 + 1e6*1e6 + 1e6 + 3*1e6 + 3 parameters: four terabytes of float32. */
const tooManyParameters = modelText('Linear(2, 1000000) |> relu |> Linear(1000000, 1000000) |> relu |> Linear(1000000, 3)');
const tooManyActivations = modelText('Linear(2, 100000) |> relu |> Linear(100000, 3)', 4096);
const absurdDims = modelText('Linear(2, 1000000000000) |> relu |> Linear(1000000000000, 3)');
const small = modelText('Linear(2, 16) |> relu |> Linear(16, 3)');

describe('nn check and nn train refuse a model over the limits before allocating', () => {
  const cases: [string, string, RegExp][] = [
    ['too many parameters', tooManyParameters, /NN4002.*1,000,007,000,003 parameters \(4\.0 TB as float32\)/],
    ['too much activation memory at the batch size', tooManyActivations, /NN4002.*batch 4096 needs [\d.]+ GB of activations/],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => {
      const dir = tempWorkspace('limits');
      writeFiles(dir, { 'model.nn': text });
      const started = performance.now();
      const result = nn(['train', 'model.nn'], dir);
      assertCleanFailure(result, `nn train (${name})`);
      assert.match(result.output, expected);
      assert.match(result.output, /model\.nn:\d+:\d+: error NN4002/, 'the message points into the file');
      // Allocating even 1% of these sizes would take far longer (or fail) than a refusal does.
      assert.ok(performance.now() - started < 60_000);
      const check = nn(['check', 'model.nn'], dir);
      assertCleanFailure(check, `nn check (${name})`);
      assert.match(check.output, expected);
      assert.match(check.output, /model\.nn:\d+:\d+: error NN4002/, 'nn check points into the file');
    });
  }
});

describe('absurd dims (1e12) are refused by the checker, without allocating', () => {
  it('nn check and nn train report the dims at the layer', () => {
    const dir = tempWorkspace('limits-absurd');
    writeFiles(dir, { 'model.nn': absurdDims });
    for (const command of ['check', 'train']) {
      const result = nn([command, 'model.nn'], dir);
      assertCleanFailure(result, `nn ${command}`);
      assert.match(result.output, /model\.nn:2:\d+: error NN2008: 1000000000000 is too large for a dim \(at most 2\^31\)/, result.output);
    }
  });
});

describe('the limits are configurable in the engine', () => {
  it('a small model is refused under a tiny limit and accepted under the default', () => {
    const options = { baseDir: tempWorkspace('limits-api') };
    const refused = prepare(small, { ...options, limits: { maxParameters: 50, maxActivationBytes: 2 ** 31 } });
    assert.ok(Array.isArray(refused), 'refused');
    assert.equal(refused[0]!.code, 'NN4002');
    assert.match(refused[0]!.message, /`M` has 99 parameters .*over the limit of 50/);
    const accepted = prepare(small, options);
    assert.ok(!Array.isArray(accepted), JSON.stringify(accepted));
    const memory = prepare(small, { ...options, limits: { maxParameters: 1e9, maxActivationBytes: 1000 } });
    assert.ok(Array.isArray(memory) && memory[0]!.code === 'NN4002' && /activations/.test(memory[0]!.message));
  });
});

describe('the CLI takes the limits as options', () => {
  it('nn check, nn train and nn probe refuse a small model under --max-parameters, and a bad value exits 2', () => {
    const dir = tempWorkspace('limits-cli');
    writeFiles(dir, { 'model.nn': small });
    assert.equal(nn(['check', 'model.nn'], dir).code, 0, 'fits under the default limits');
    for (const command of ['check', 'train', 'probe']) {
      const result = nn([command, 'model.nn', '--max-parameters', '50'], dir);
      assertCleanFailure(result, `nn ${command} --max-parameters 50`);
      assert.match(result.output, /model\.nn:\d+:\d+: error NN4002: .*`M` has 99 parameters .*over the limit of 50/, result.output);
    }
    const memory = nn(['check', 'model.nn', '--max-activation-bytes', '1000'], dir);
    assertCleanFailure(memory, 'nn check --max-activation-bytes 1000');
    assert.match(memory.output, /NN4002.*activations/);
    const bad = nn(['check', 'model.nn', '--max-parameters', 'many'], dir);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.output, /--max-parameters must be a positive integer, got many/);
  });
});

describe('the editor reports and refuses to train a model over the nn.limits settings', () => {
  let client: LspClient;
  const workspace = tempWorkspace('limits-lsp');
  before(async () => {
    client = await LspClient.start({ workspaceFolder: workspace, initializationOptions: { trusted: true } });
  });
  after(() => client.stop());

  it('a model with more parameters than nn.limits.maxParameters', async () => {
    const uri = await client.open(join(workspace, 'small.nn'), modelText('Linear(2, 64) |> relu |> Linear(64, 3)'));
    await client.diagnosticsFor(uri, 1, 30_000);
    assert.ok(!(await client.diagnosticsFor(uri)).diagnostics.some((d) => d.code === 'NN4002'), 'fits under the default limits');
    await client.setSettings({ limits: { maxParameters: 100 } }, uri);
    const over = (await client.diagnosticsFor(uri)).diagnostics.filter((d) => d.code === 'NN4002');
    assert.equal(over.length, 1, 'NN4002 while you type, at the train block');
    assert.match(over[0]!.message, /`M` has 387 parameters .*over the limit of 100/);
    assert.equal(over[0]!.range.start.line, 4, 'at the train block');
    const result = await client.request<TrainResult>('nn/train', { uri });
    assert.equal(result.reason, 'error', result.message);
    assert.match(result.message, /387 parameters.*maxParameters \(100\)/);
    await client.setSettings({}, uri);
    assert.ok(!(await client.diagnosticsFor(uri)).diagnostics.some((d) => d.code === 'NN4002'), 'gone under the default limits again');
  });

  it('absurd dims are checked and hovered without allocating', async () => {
    const uri = await client.open(join(workspace, 'absurd.nn'), absurdDims);
    const { diagnostics } = await client.diagnosticsFor(uri, 1, 30_000);
    assert.ok(diagnostics.some((d) => d.code === 'NN2008' && d.range.start.line === 1), JSON.stringify(diagnostics));
    const hover = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, 'relu') });
    assert.ok(hover, 'the server still answers hovers');
    const result = await client.request<TrainResult>('nn/train', { uri });
    assert.equal(result.reason, 'error');
    assert.match(result.message, /NN2008|error/);
  });
});
