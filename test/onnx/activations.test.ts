// The activation statistics of the ONNX step (dead ReLU units, saturated sigmoid/tanh
// values) equal the TS engine's on the same weights and batch, with the same labels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxBackend, tsBackend, type StepOutcome } from '../../engine/src/run/backends.js';
import { makeBatch } from '../../engine/src/core/batches.js';
import { batchLayout } from '../../engine/src/run/loop.js';
import { isRunError, prepare, type Prepared } from '../../engine/src/run/prepare.js';
import type { ActivationStats } from '../../engine/src/core/events.js';

const TEXT = `model Squash(x: [B, 2]) -> [B, 3] {
  fc1 = Linear(2, 16)
  fc2 = Linear(16, 16)
  fc3 = Linear(16, 16)
  fc4 = Linear(16, 3)
  h = relu(fc1(x))
  h = sigmoid(fc2(h))
  return fc4(tanh(fc3(h)) |> gelu)
}

train Squash {
  data   = spirals(classes = 3, points = 40)
  batch  = 32
  epochs = 1
  optimizer = SGD(lr = 0.1)
}
`;

/** The model prepared for a run, with half of fc1's units dead and fc2, fc3 driven into saturation. */
function prepared(): Prepared {
  const result = prepare(TEXT, { baseDir: mkdtempSync(join(tmpdir(), 'nn-activations-')) });
  assert.ok(!isRunError(result) && !Array.isArray(result), JSON.stringify(result));
  const param = (name: string) => result.lowered.params.find((p) => p.name === name)!.tensor.data;
  const w1 = param('fc1.weight');
  const b1 = param('fc1.bias');
  for (let unit = 0; unit < 8; unit++) {
    w1[2 * unit] = 0;
    w1[2 * unit + 1] = 0;
    b1[unit] = -1;
  }
  for (const name of ['fc2.weight', 'fc3.weight']) param(name).forEach((v, i, a) => { a[i] = v * 20; });
  return result;
}

function activationsOf(outcome: StepOutcome): ActivationStats[] {
  assert.ok(!('nan' in outcome), 'the step is finite');
  return outcome.activations;
}

test('ONNX activation statistics equal the TS engine\'s on the same weights and batch', async () => {
  const ts = prepared();
  const onnx = prepared();
  const layout = batchLayout(ts);
  const order = Array.from({ length: ts.trainSplit.count }, (_, i) => i);
  const batch = makeBatch(ts.trainSplit, order, 0, 32, layout);
  const backend = await onnxBackend(onnx, 1);
  // The first sampled step, the last of the first session run (the same batch each step).
  const steps = Array.from({ length: backend.statsRun }, () => batch);
  const onnxStats = activationsOf((await backend.run(steps, 1, true)).at(-1)!);
  await backend.release();
  const tsStats = activationsOf((await tsBackend(ts, 1).run(steps, 1)).at(-1)!);

  assert.deepEqual(onnxStats.map((a) => `${a.op} ${a.layer}`), tsStats.map((a) => `${a.op} ${a.layer}`));
  // gelu has no activation statistics: its units neither die nor saturate.
  assert.deepEqual(onnxStats.map((a) => a.op), ['relu', 'sigmoid', 'tanh']);
  onnxStats.forEach((a, i) => {
    const expected = tsStats[i];
    assert.deepEqual(a.range, expected.range, `${a.layer} range`);
    assert.equal(a.deadFraction, expected.deadFraction, `${a.layer} dead fraction`);
    // One value right at the 0.01 threshold may round the other way in float32.
    assert.ok(Math.abs(a.saturatedFraction - expected.saturatedFraction) <= 1 / (32 * 16), `${a.layer} saturated ${a.saturatedFraction} vs ${expected.saturatedFraction}`);
  });
  const relu = onnxStats[0];
  assert.ok(relu.deadFraction >= 0.5, `half of fc1's units are dead: ${relu.deadFraction}`);
  assert.ok(onnxStats[1].saturatedFraction > 0.1, `fc2's sigmoid saturates: ${onnxStats[1].saturatedFraction}`);
  assert.ok(onnxStats[2].saturatedFraction > 0.1, `fc3's tanh saturates: ${onnxStats[2].saturatedFraction}`);
});
