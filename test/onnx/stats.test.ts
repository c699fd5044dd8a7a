// The per-parameter gradient statistics of the ONNX step match the TS loop's definitions
// (core/stats.ts) computed from the same step's gradient and update.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxTrainer, type OnnxStepResult } from '../../engine/src/backend-onnx/session.js';
import { paramGradStats, differenceNorm } from '../../engine/src/core/stats.js';
import { mlpIR } from './irBuilder.js';
import { initialWeights, randomBatches } from './parityHarness.js';

test('gradient statistics of an SGD step equal those computed from its gradient', async () => {
  const model = mlpIR([12, 16, 4]);
  const lr = 0.5;
  const initial = initialWeights(model, new Map(), 0);
  // A dead unit: zero weights and a negative bias make fc1's unit 0 output 0 for every sample.
  const w1 = initial.get('fc1.weight') as Float32Array;
  w1.fill(0, 0, 12);
  (initial.get('fc1.bias') as Float32Array)[0] = -1;
  const trainer = await OnnxTrainer.create(model, new Map(), { loss: 'cross_entropy', optimizer: { kind: 'SGD', lr, momentum: 0, weightDecay: 0 } }, initial);
  const [batch] = randomBatches(model, 'cross_entropy', [8], 4);
  const result = await trainer.step({ data: batch.x, shape: batch.xShape }, { data: batch.y, shape: batch.yShape });
  const after = trainer.params();
  // One block per trained parameter, in the parameters' order.
  assert.deepEqual(result.params.map((p) => p.name), [...after.keys()]);
  for (const stats of result.params) {
    const before = initial.get(stats.name) as Float32Array;
    const now = after.get(stats.name) as Float32Array;
    const grad = Float32Array.from(before, (v, i) => (v - now[i]) / lr);
    const expected = paramGradStats(stats.name, stats.name.split('.')[0], grad, now, differenceNorm(now, before));
    for (const key of ['gradNorm', 'gradMax', 'gradMeanAbs', 'updateRatio'] as const) {
      assert.ok(Math.abs(stats[key] - expected[key]) <= 1e-4 * Math.abs(expected[key]) + 1e-7, `${stats.name} ${key}: ${stats[key]} vs ${expected[key]}`);
    }
    assert.equal(stats.layer, expected.layer);
  }
  const fc1 = result.params.find((p) => p.name === 'fc1.weight');
  assert.ok(fc1 && Math.abs(fc1.zeroFraction - 1 / 16) < 1e-6, `fc1.weight zero fraction ${fc1?.zeroFraction}`);
  await trainer.release();
});

test('statsEvery: statistics on step 1 and every n-th step, the same training either way', async () => {
  const model = mlpIR([12, 16, 4]);
  const train = { loss: 'cross_entropy' as const, optimizer: { kind: 'Adam' as const, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } };
  const every = await OnnxTrainer.create(model, new Map(), train, initialWeights(model, new Map(), 0));
  const sampled = await OnnxTrainer.create(model, new Map(), train, initialWeights(model, new Map(), 0), { statsEvery: 3 });
  const batches = randomBatches(model, 'cross_entropy', [8, 8, 8, 8, 8, 8, 5], 4);
  const withStats: number[] = [];
  for (const [i, batch] of batches.entries()) {
    const a = await every.step({ data: batch.x, shape: batch.xShape }, { data: batch.y, shape: batch.yShape });
    const b = await sampled.step({ data: batch.x, shape: batch.xShape }, { data: batch.y, shape: batch.yShape });
    // Steps without statistics fold Adam's scale into the gradient Gemms: rounding differs.
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `step ${i + 1}: loss ${b.loss} vs ${a.loss}`);
    if (b.params.length > 0) {
      withStats.push(i + 1);
      assert.deepEqual(b.params.map((p) => p.name), a.params.map((p) => p.name));
      b.params.forEach((p, j) => {
        for (const key of ['gradNorm', 'gradMax', 'gradMeanAbs', 'zeroFraction', 'updateRatio'] as const) {
          assert.ok(Math.abs(p[key] - a.params[j][key]) <= 1e-4 * Math.abs(a.params[j][key]) + 1e-9, `step ${i + 1} ${p.name} ${key}: ${p[key]} vs ${a.params[j][key]}`);
        }
      });
    }
  }
  assert.deepEqual(withStats, [1, 3, 6]);
  await every.release();
  await sampled.release();
});

test('several steps per session run: each step its own loss and statistics, as one step at a time', async () => {
  const model = mlpIR([12, 16, 4]);
  const train = { loss: 'cross_entropy' as const, optimizer: { kind: 'SGD' as const, lr: 0.1, momentum: 0.9, weightDecay: 0 } };
  const single = await OnnxTrainer.create(model, new Map(), train, initialWeights(model, new Map(), 0), { stepsPerRun: 1 });
  const unrolled = await OnnxTrainer.create(model, new Map(), train, initialWeights(model, new Map(), 0), { stepsPerRun: 3 });
  const sampled = await OnnxTrainer.create(model, new Map(), train, initialWeights(model, new Map(), 0), { stepsPerRun: 3, statsEvery: 4 });
  const batches = randomBatches(model, 'cross_entropy', [8, 8, 8, 8, 8, 8, 8, 5], 4).map((b) => ({ inputs: { data: b.x, shape: b.xShape }, labels: { data: b.y, shape: b.yShape } }));
  const expected: OnnxStepResult[] = [];
  for (const b of batches) expected.push(await single.step(b.inputs, b.labels));
  const [all, some] = [await unrolled.run(batches), await sampled.run(batches)];
  assert.equal(all.length, batches.length);
  all.forEach((r, i) => {
    assert.ok(Math.abs(r.loss - expected[i].loss) <= 1e-5 * Math.abs(expected[i].loss), `step ${i + 1}: loss ${r.loss} vs ${expected[i].loss}`);
    assert.equal(r.params.length, expected[i].params.length);
    r.params.forEach((p, j) => assert.ok(Math.abs(p.gradNorm - expected[i].params[j].gradNorm) <= 1e-4 * expected[i].params[j].gradNorm, `step ${i + 1} ${p.name}`));
  });
  assert.deepEqual(some.map((r, i) => (r.params.length > 0 ? i + 1 : 0)).filter(Boolean), [1, 4, 8]);
  some.forEach((r, i) => assert.ok(Math.abs(r.loss - all[i].loss) <= 1e-5 * Math.abs(all[i].loss), `step ${i + 1}: sampled loss ${r.loss} vs ${all[i].loss}`));
  assert.equal(unrolled.steps, batches.length);
  // Sampled: the last step of the calls that ask for it, in runs of 3, 3, then the last two batches (of two sizes) alone.
  const atEnd = await OnnxTrainer.create(model, new Map(), train, initialWeights(model, new Map(), 0), { stepsPerRun: 3, statsAt: 'sampled' });
  const ends = [...await atEnd.run(batches.slice(0, 3), true), ...await atEnd.run(batches.slice(3, 6), false), ...await atEnd.run(batches.slice(6), true)];
  assert.deepEqual(ends.map((r, i) => (r.params.length > 0 ? i + 1 : 0)).filter(Boolean), [3, 8]);
  ends.forEach((r, i) => {
    assert.ok(Math.abs(r.loss - expected[i].loss) <= 1e-5 * Math.abs(expected[i].loss), `step ${i + 1}: loss ${r.loss} vs ${expected[i].loss}`);
    r.params.forEach((p, j) => assert.ok(Math.abs(p.gradNorm - expected[i].params[j].gradNorm) <= 1e-4 * expected[i].params[j].gradNorm, `step ${i + 1} ${p.name}`));
  });
  for (const t of [single, unrolled, sampled, atEnd]) await t.release();
});
