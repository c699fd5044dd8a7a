// The per-parameter gradient statistics of the ONNX step match the TS loop's definitions
// (train/stats.ts) computed from the same step's gradient and update.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxTrainer } from '../../engine/src/onnx/session.js';
import { paramGradStats, differenceNorm } from '../../engine/src/train/stats.js';
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
    assert.equal(a.loss, b.loss);
    if (b.params.length > 0) {
      withStats.push(i + 1);
      assert.deepEqual(b.params, a.params);
    }
  }
  assert.deepEqual(withStats, [1, 3, 6]);
  await every.release();
  await sampled.release();
});
