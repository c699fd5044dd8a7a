// The wording of run logs, end-of-run messages, the probe table and the gradcheck report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatLoss,
  gradcheckReport,
  gradientTable,
  runLogLine,
  trainResultMessage,
} from '../../client/src/training/format.js';

test('losses keep four decimals, tiny ones switch to exponents', () => {
  assert.equal(formatLoss(0.41234), '0.4123');
  assert.equal(formatLoss(0), '0.0000');
  assert.equal(formatLoss(3.2e-6), '3.20e-6');
  assert.equal(formatLoss(Number.NaN), 'NaN');
});

test('run log lines say what happened with the numbers', () => {
  assert.equal(
    runLogLine({ type: 'start', model: 'Net', backend: 'onnx', epochs: 3, stepsPerEpoch: 100, params: 1234567 }),
    'Training Net on the onnx backend: 3 epochs × 100 steps, 1,234,567 parameters',
  );
  assert.equal(
    runLogLine({ type: 'epoch', epoch: 0, step: 100, trainLoss: 0.5, testLoss: 0.6, testAccuracy: 0.8123 }),
    'epoch 1 done at step 100: train loss 0.5000, test loss 0.6000, test accuracy 81.2%',
  );
  assert.equal(
    runLogLine({ type: 'epoch', epoch: 0, step: 100, trainLoss: 0.5, testLoss: 0.6, testAccuracy: 0.8123, trainAccuracy: 0.9 }),
    'epoch 1 done at step 100: train loss 0.5000, test loss 0.6000, test accuracy 81.2%, train accuracy 90.0%',
  );
  assert.equal(
    runLogLine({ type: 'end', reason: 'done', step: 300, testAccuracy: 0.9, seconds: 12.34, checkpoint: 'runs/a/model.safetensors', findings: [] }),
    'run done at step 300 after 12.3 s, test accuracy 90.0%, checkpoint runs/a/model.safetensors',
  );
  assert.equal(runLogLine({ type: 'checkpoint', step: 7, path: 'c.safetensors' }), 'checkpoint at step 7: c.safetensors');
  // Without a test split the accuracy is on the training data, and is named so.
  assert.equal(
    runLogLine({ type: 'epoch', epoch: 0, step: 2, trainLoss: 0.5, testLoss: 0.6, testAccuracy: 0.25, evaluatedOn: 'train', trainAccuracy: 0.25 }),
    'epoch 1 done at step 2: train loss 0.5000, train-set eval loss 0.6000, train-set accuracy 25.0%',
  );
  assert.equal(
    trainResultMessage('Net', { reason: 'done', message: '', checkpoint: null, testAccuracy: 0.5, evaluatedOn: 'validation' }).text,
    'Training Net finished · validation accuracy 50.0%',
  );
});

test('the end message names the test accuracy and checkpoint, or why the run stopped', () => {
  assert.deepEqual(
    trainResultMessage('Net', { reason: 'done', message: '', checkpoint: 'runs/x/model.safetensors', testAccuracy: 0.873 }),
    { text: 'Training Net finished · test accuracy 87.3% · checkpoint runs/x/model.safetensors', ok: true },
  );
  assert.equal(trainResultMessage('Net', { reason: 'cancelled', message: '', checkpoint: null, testAccuracy: null }).text, 'Training Net was cancelled.');
  assert.equal(trainResultMessage('Net', { reason: 'nan', message: 'at step 5', checkpoint: null, testAccuracy: null }).ok, false);
  assert.equal(
    trainResultMessage('Net', { reason: 'error', message: 'data/x.npy: no such file', checkpoint: null, testAccuracy: null }).text,
    'Training Net failed: data/x.npy: no such file',
  );
});

test('the probe table lines up its columns', () => {
  const lines = gradientTable([
    { name: 'conv1.weight', layer: 'conv1', gradNorm: 0.5, gradMax: 0.1, gradMeanAbs: 0.001, zeroFraction: 0.25, updateRatio: 0, size: 4, weightNorm: 1 },
    { name: 'fc.bias', layer: 'fc', gradNorm: 0, gradMax: 0, gradMeanAbs: 0, zeroFraction: 1, updateRatio: 0, size: 2, weightNorm: 1 },
  ]);
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^parameter\s+‖g‖\s+max \|g\|\s+mean \|g\|\s+zeros$/);
  assert.match(lines[1], /^conv1\.weight\s+5\.00e-1\s+1\.00e-1\s+1\.00e-3\s+25\.0%$/);
  const column = (line: string, text: string): number => line.indexOf(text);
  assert.equal(column(lines[1], '5.00e-1'), column(lines[0], '‖g‖'));
  assert.equal(column(lines[2], '100.0%'), column(lines[0], 'zeros'));
});

test('the gradcheck report lists failures by name', () => {
  const report = gradcheckReport({
    fns: [
      { fn: 'swish', ok: true, inputs: [{ name: 'x', maxAbsError: 1e-9, maxRelError: 1e-7 }] },
      { fn: 'bad', ok: false, inputs: [{ name: 'x', maxAbsError: 0.5, maxRelError: 1 }] },
    ],
  });
  assert.equal(report.ok, false);
  assert.equal(report.summary, 'gradcheck: bad does not match finite differences.');
  assert.deepEqual(report.lines.slice(0, 2), ['ok   swish', '     x: max abs error 1.00e-9, max rel error 1.00e-7']);
  assert.equal(gradcheckReport({ fns: [] }).summary, 'No fn with a grad block to check.');
  assert.equal(
    gradcheckReport({ fns: [{ fn: 'f', ok: true, inputs: [] }, { fn: 'g', ok: true, inputs: [] }] }).summary,
    'gradcheck: all 2 grad blocks match finite differences.',
  );
});
