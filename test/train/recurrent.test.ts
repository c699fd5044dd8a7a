// The recurrent layers on the two back ends: examples/lstm_waves.nn lowers to ONNX (the LSTM
// unrolled over its 32 steps), and the same model over a symbolic length T trains on the TS
// engine under `auto`, saying why.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { prepare } from '../../engine/src/run/prepare.js';
import { chooseBackend } from '../../engine/src/run/backendChoice.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import type { OptimizerSpec } from '../../engine/src/lang/api.js';
import { assertParity, initialWeights, maxRelativeDifference, randomBatches, runOnnx, runTs } from '../onnx/parityHarness.js';

const examples = resolve('examples');
const text = readFileSync(join(examples, 'lstm_waves.nn'), 'utf8');

function backendOf(source: string) {
  const prepared = prepare(source, { baseDir: examples });
  if (Array.isArray(prepared)) assert.fail(prepared.map((e) => e.message).join('; '));
  return chooseBackend(prepared.model, prepared.check.fnIrs, { ...prepared.train, backend: 'auto' });
}

test('lstm_waves.nn: auto trains the LSTM on the ONNX back end', () => {
  const choice = backendOf(text);
  assert.ok(!('error' in choice) && choice.backend === 'onnx', JSON.stringify(choice));
});

test('an LSTM over a symbolic length falls back to the TS engine with the reason', () => {
  const symbolic = text.replace('model WaveLstm(x: [B, 32, 1])', 'model WaveLstm(x: [B, T, 1])');
  assert.notEqual(symbolic, text);
  const choice = backendOf(symbolic);
  assert.ok(!('error' in choice) && choice.backend === 'ts', JSON.stringify(choice));
  assert.match(choice.reason ?? '', /an LSTM over a sequence with a symbolic dim \(T\)/);
});

test('a classifier from the final states trains alike on ONNX and TS (gradients through h_n, c_n)', async () => {
  const fixture = readFileSync('test/fixtures/export/lstm_final_state.nn', 'utf8');
  const check = checkProgram(fixture);
  assert.deepEqual(check.diagnostics.map((d) => d.message), []);
  const train = check.trains[0];
  const model = check.irs.get(train.model)!;
  const sgd: OptimizerSpec = { kind: 'SGD', lr: 0.1, momentum: 0, weightDecay: 0 };
  const batches = randomBatches(model, train.loss, [8, 8, 8, 5], 3);
  const ts = runTs(model, check.fnIrs, train.loss, sgd, batches, 0);
  const onnx = await runOnnx(model, check.fnIrs, train.loss, sgd, batches, 0);
  assertParity(ts, onnx, sgd, 1e-4);
  // Every LSTM and GRU weight moved: the loss reaches them only through the final states.
  const initial = initialWeights(model, check.fnIrs, 0);
  const still = [...ts.params.keys()].filter((name) => /^(lstm|gru)\./.test(name) && maxRelativeDifference(new Map([[name, ts.params.get(name)!]]), new Map([[name, initial.get(name)!]])).difference === 0);
  assert.deepEqual(still, []);
});
