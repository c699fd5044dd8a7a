// Optimizers against hand-computed PyTorch update formulas, and a model built by hand
// from the engine's layers training on a synthetic problem with each optimizer.

import test from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../engine/src/index.js';
import { assertClose } from './helpers.js';

/** Runs `steps` updates of one float64 parameter with fixed gradients per step. */
function run(make: (p: E.Tensor) => E.Optimizer, start: number[], grads: number[][]): number[][] {
  const p = E.tensor(start, { dtype: 'float64', requiresGrad: true });
  const optimizer = make(p);
  return grads.map((g) => {
    p.grad = E.tensor(g, { dtype: 'float64' });
    optimizer.step();
    return p.toArray();
  });
}

const grads = [[0.5, -1], [0.25, 2], [-1, 0.1]];

/**
 * The parameter after each Adam step, by the paper's formulas: weight decay `wd` is added to
 * the gradient (Adam's L2) or, `decoupled`, shrinks the weight first (AdamW).
 */
function adamReference(
  start: number[],
  gradients: number[][],
  h: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean },
): number[][] {
  const { lr, b1, b2, eps, wd } = h;
  let p = start;
  let m = start.map(() => 0);
  let v = start.map(() => 0);
  return gradients.map((g, t) => {
    if (h.decoupled) p = p.map((pi) => pi * (1 - lr * wd));
    const d = h.decoupled ? g : g.map((gi, i) => gi + wd * p[i]);
    m = m.map((mi, i) => b1 * mi + (1 - b1) * d[i]);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * d[i] * d[i]);
    const mHat = m.map((mi) => mi / (1 - b1 ** (t + 1)));
    const vHat = v.map((vi) => vi / (1 - b2 ** (t + 1)));
    p = p.map((pi, i) => pi - (lr * mHat[i]) / (Math.sqrt(vHat[i]) + eps));
    return p;
  });
}

test('SGD with momentum and weight decay follows PyTorch (dampening 0, buf = g on step 1)', () => {
  const lr = 0.1, mu = 0.9, wd = 0.01;
  const got = run((p) => new E.SGD([p], { lr, momentum: mu, weightDecay: wd }), [1, 2], grads);
  let p = [1, 2];
  let buf: number[] = [];
  grads.forEach((g, t) => {
    const d = g.map((gi, i) => gi + wd * p[i]);
    buf = t === 0 ? d : buf.map((b, i) => mu * b + d[i]);
    p = p.map((pi, i) => pi - lr * buf[i]);
    assertClose(got[t], p, 1e-12, `step ${t + 1}`);
  });
});

test('plain SGD: p −= lr · g', () => {
  const got = run((p) => new E.SGD([p], { lr: 0.5 }), [1, 2], grads.slice(0, 1));
  assertClose(got[0], [0.75, 2.5], 1e-12);
});

test('Adam follows the bias-corrected update m̂ / (√v̂ + eps), with L2 weight decay', () => {
  const lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  const got = run((p) => new E.Adam([p], { lr, beta1: b1, beta2: b2, eps, weightDecay: wd }), [1, 2], grads);
  const expected = adamReference([1, 2], grads, { lr, b1, b2, eps, wd, decoupled: false });
  expected.forEach((p, t) => assertClose(got[t], p, 1e-10, `step ${t + 1}`));
});

test('AdamW decays the weight (p ·= 1 − lr·wd) instead of the gradient; default wd 0.01', () => {
  const lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const optimizer = new E.AdamW([E.tensor(0, { requiresGrad: true })], { lr });
  assert.equal(optimizer.weightDecay, 0.01);
  const wd = 0.01;
  const got = run((p) => new E.AdamW([p], { lr }), [1, 2], grads);
  const expected = adamReference([1, 2], grads, { lr, b1, b2, eps, wd, decoupled: true });
  expected.forEach((p, t) => assertClose(got[t], p, 1e-10, `step ${t + 1}`));
});

test('zeroGrad clears gradients; parameters without a gradient are left alone', () => {
  const a = E.tensor([1], { requiresGrad: true });
  const b = E.tensor([1], { requiresGrad: true });
  const optimizer = new E.SGD([a, b], { lr: 1 });
  E.sum(E.mul(a, 3)).backward();
  optimizer.step();
  assert.deepEqual([a.item(), b.item()], [-2, 1]);
  optimizer.zeroGrad();
  assert.equal(a.grad, null);
});

/** Two interleaved spirals: 2-D points, int64 labels. */
function spirals(points: number, rng: E.Rng): { x: E.Tensor; y: E.Tensor } {
  const x = new Float32Array(points * 2);
  const y = new Int32Array(points);
  for (let i = 0; i < points; i++) {
    const label = i % 2;
    const r = (i / points) * 3 + 0.3;
    const angle = r * 2.2 + label * Math.PI + rng.normal(0, 0.1);
    x[2 * i] = r * Math.cos(angle);
    x[2 * i + 1] = r * Math.sin(angle);
    y[i] = label;
  }
  return { x: new E.Tensor(x, [points, 2], 'float32'), y: new E.Tensor(y, [points], 'int64') };
}

const optimizers: [string, (params: E.Tensor[]) => E.Optimizer][] = [
  ['SGD (momentum 0.9)', (params) => new E.SGD(params, { lr: 0.05, momentum: 0.9 })],
  ['Adam', (params) => new E.Adam(params, { lr: 0.01 })],
  ['AdamW', (params) => new E.AdamW(params, { lr: 0.01 })],
];

for (const [name, make] of optimizers) {
  test(`a hand-built MLP trains on spirals with ${name}: loss falls below a fifth`, () => {
    const rng = new E.Rng(0);
    const { x, y } = spirals(200, rng);
    const fc1 = new E.Linear(2, 32, { rng });
    const fc2 = new E.Linear(32, 32, { rng });
    const fc3 = new E.Linear(32, 2, { rng });
    const forward = (input: E.Tensor) => fc3.forward(E.tanh(fc2.forward(E.tanh(fc1.forward(input)))));
    const optimizer = make([...fc1.parameters(), ...fc2.parameters(), ...fc3.parameters()]);
    const first = E.crossEntropy(forward(x), y).item();
    let last = first;
    for (let step = 0; step < 300; step++) {
      optimizer.zeroGrad();
      const loss = E.crossEntropy(forward(x), y);
      loss.backward();
      optimizer.step();
      last = loss.item();
    }
    assert.ok(last < first / 5, `${name}: loss ${first} → ${last}`);
  });
}

test('a hand-built CNN (conv, batch norm, pool, linear) fits a small image batch with Adam', () => {
  const rng = new E.Rng(1);
  const x = E.randn([16, 1, 8, 8], { rng });
  const y = E.randint([16], 3, { rng });
  const conv = new E.Conv2d(1, 4, 3, { padding: 1, rng });
  const bn = new E.BatchNorm2d(4);
  const fc = new E.Linear(4 * 4 * 4, 3, { rng });
  const forward = () => fc.forward(E.flatten(E.maxPool2d(E.relu(bn.forward(conv.forward(x))), 2)));
  const optimizer = new E.Adam([...conv.parameters(), ...bn.parameters(), ...fc.parameters()], { lr: 0.02 });
  const first = E.crossEntropy(forward(), y).item();
  let last = first;
  for (let step = 0; step < 60; step++) {
    optimizer.zeroGrad();
    const loss = E.crossEntropy(forward(), y);
    loss.backward();
    optimizer.step();
    last = loss.item();
  }
  assert.ok(last < first / 5, `loss ${first} → ${last}`);
});
