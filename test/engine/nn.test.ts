// Layers: PyTorch default initialization, state_dict names, batch norm running statistics,
// train/eval modes, dropout, and the seeded RNG.

import test from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../engine/src/index.js';
import { assertClose, assertGradcheck, inputs64 } from './helpers.js';

function stats(values: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let total = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    total += values[i];
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const mean = total / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length), min, max };
}

test('the same seed gives the same numbers; another seed gives others', () => {
  const a = new E.Rng(42);
  const b = new E.Rng(42);
  const c = new E.Rng(43);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(Array.from({ length: 5 }, () => b.next()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.next()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test('Linear: kaiming-uniform (a = √5) weight and bias within ±1/√fan_in, uniformly spread', () => {
  const layer = new E.Linear(784, 256, { rng: new E.Rng(0) });
  const bound = 1 / Math.sqrt(784);
  const w = stats(layer.weight.data);
  assert.ok(w.max <= bound && w.min >= -bound, 'weight inside the bound');
  assert.ok(w.max > 0.99 * bound && w.min < -0.99 * bound, 'weight reaches the bound');
  assert.ok(Math.abs(w.std - bound / Math.sqrt(3)) < 0.01 * bound, `uniform std ${w.std}`);
  assert.ok(Math.abs(w.mean) < 0.01 * bound);
  const b = stats(layer.bias!.data);
  assert.ok(b.max <= bound && b.min >= -bound);
  assert.deepEqual(layer.weight.shape, [256, 784]);
});

test('Conv2d: fan_in is in_channels · k · k', () => {
  const layer = new E.Conv2d(16, 32, 3, { rng: new E.Rng(1) });
  const bound = 1 / Math.sqrt(16 * 9);
  const w = stats(layer.weight.data);
  assert.ok(w.max <= bound && w.min >= -bound && w.max > 0.98 * bound);
  assert.ok(Math.abs(w.std - bound / Math.sqrt(3)) < 0.02 * bound);
  assert.deepEqual(layer.weight.shape, [32, 16, 3, 3]);
});

test('Embedding is normal(0, 1); norms start at ones and zeros', () => {
  const emb = stats(new E.Embedding(1000, 64, { rng: new E.Rng(2) }).weight.data);
  assert.ok(Math.abs(emb.mean) < 0.02 && Math.abs(emb.std - 1) < 0.02, JSON.stringify(emb));
  const ln = new E.LayerNorm(4);
  assert.deepEqual([...ln.weight.data, ...ln.bias.data], [1, 1, 1, 1, 0, 0, 0, 0]);
  const bn = new E.BatchNorm2d(2);
  assert.deepEqual(bn.namedBuffers().map(([n, t]) => [n, t.toArray()]), [['running_mean', [0, 0]], ['running_var', [1, 1]]]);
});

test('initTensor follows each InitSpec', () => {
  const rng = new E.Rng(3);
  const xavier = stats(E.initTensor({ kind: 'xavier_uniform', fanIn: 100, fanOut: 50 }, [50, 100], rng).data);
  const bound = Math.sqrt(6 / 150);
  assert.ok(xavier.max <= bound && xavier.min >= -bound && xavier.max > 0.98 * bound);
  const normal = stats(E.initTensor({ kind: 'normal', std: 0.02 }, [100, 100], rng).data);
  assert.ok(Math.abs(normal.std - 0.02) < 0.001);
  assert.deepEqual(E.initTensor({ kind: 'ones' }, [2], rng).toArray(), [1, 1]);
  assert.deepEqual(E.initTensor({ kind: 'zeros' }, [2], rng).toArray(), [0, 0]);
  assert.equal(E.initTensor({ kind: 'bias_uniform', fanIn: 4 }, [1000], rng).toArray().every((v) => Math.abs(v) <= 0.5), true);
});

test('parameters are named like a PyTorch state_dict', () => {
  const model = new E.Sequential(new E.Linear(2, 3), E.relu, new E.BatchNorm1d(3), new E.Linear(3, 1, { bias: false }));
  assert.deepEqual(model.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '2.weight', '2.bias', '3.weight']);
  assert.deepEqual(model.namedBuffers().map(([n]) => n), ['2.running_mean', '2.running_var']);
});

test('BatchNorm1d: train mode updates running stats with momentum 0.1 and the unbiased variance; eval uses them', () => {
  const bn = new E.BatchNorm1d(2);
  const x = E.tensor([[1, 10], [2, 20], [3, 30], [6, 40]]);
  const y = bn.forward(x);
  // Column 0: mean 3, biased var 3.5, unbiased var 14/3.
  assertClose(bn.runningMean.toArray(), [0.3, 2.5], 1e-6);
  assertClose(bn.runningVar.toArray(), [0.9 + 0.1 * (14 / 3), 0.9 + 0.1 * (500 / 3)], 1e-5);
  assertClose([y.data[0]], [(1 - 3) / Math.sqrt(3.5 + 1e-5)], 1e-6);
  bn.eval();
  const z = bn.forward(E.tensor([[1, 10]]));
  assertClose(z.toArray(), [(1 - 0.3) / Math.sqrt(bn.runningVar.data[0] + 1e-5), (10 - 2.5) / Math.sqrt(bn.runningVar.data[1] + 1e-5)], 1e-6);
  assertClose(bn.runningMean.toArray(), [0.3, 2.5], 1e-6, 'eval leaves running stats alone');
});

test('BatchNorm2d gradcheck in train and eval modes', () => {
  const [x, w, b] = inputs64(5, [2, 3, 3, 2], [3], [3]);
  for (const training of [true, false]) {
    assertGradcheck((xx, ww, bb) => E.batchNorm(xx, ww, bb, E.zeros([3], 'float64'), E.full([3], 2, 'float64'), { training }), [x, w, b]);
  }
});

test('Dropout: zeros about p of the values and scales the rest by 1/(1−p) in train mode; identity in eval', () => {
  const layer = new E.Dropout(0.25, new E.Rng(4));
  const x = E.ones([10000]);
  const y = layer.forward(x).toArray();
  const zeros = y.filter((v) => v === 0).length / y.length;
  assert.ok(Math.abs(zeros - 0.25) < 0.02, `dropped fraction ${zeros}`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  layer.eval();
  assert.equal(layer.forward(x), x);
  const [v] = inputs64(6, [3, 4]);
  assertGradcheck((t) => E.dropout(t, 0.5, { training: true, rng: new E.Rng(7) }), [v]);
});

test('Embedding rejects out-of-range ids with the position', () => {
  const emb = new E.Embedding(3, 2);
  assert.throws(() => emb.forward(E.tensor([0, 3], { dtype: 'int64' })), /id 3 at position 1 is outside \[0, 3\)/);
});
