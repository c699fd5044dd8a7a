// Every primitive and composite op: forward values against a naive reference, the
// gradient's shape, and gradcheck (central differences in float64).

import test from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../engine/src/index.js';
import type { Tensor } from '../../engine/src/index.js';
import { hardtanh } from '../../engine/src/ops/unary.js';
import { assertClose, assertGradcheck, inputs64 } from './helpers.js';

interface OpCase {
  name: string;
  inputs: () => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  /** A naive reference of the forward values from the inputs' flat values. */
  reference: (...xs: Tensor[]) => number[];
}

const map = (x: Tensor, f: (v: number) => number): number[] => x.toArray().map(f);
const erfRef = (v: number): number => {
  // Simpson's rule on 2/√π e^(−t²) over [0, v]: an independent check of the series.
  const steps = 2000;
  const h = v / steps;
  let total = 0;
  for (let i = 0; i <= steps; i++) total += (i === 0 || i === steps ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * total;
};

function naiveMatmul(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    out.push(s);
  }
  return out;
}

function naiveConv(x: Tensor, w: Tensor, b: Tensor | null, stride: number, padding: number): number[] {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const out: number[] = [];
  for (let bi = 0; bi < n; bi++) for (let oc = 0; oc < o; oc++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let s = b ? b.data[oc] : 0;
    for (let ic = 0; ic < c; ic++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = y * stride + i - padding;
      const ix = xx * stride + j - padding;
      if (iy >= 0 && iy < h && ix >= 0 && ix < wd) s += x.data[((bi * c + ic) * h + iy) * wd + ix] * w.data[((oc * c + ic) * kh + i) * kw + j];
    }
    out.push(s);
  }
  return out;
}

/** Pools each window; padded positions are `pad` (−∞ for max, 0 for average). */
function naivePool(x: Tensor, k: number, stride: number, reduce: (window: number[]) => number, padding = 0, pad = 0): number[] {
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * padding - k) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - k) / stride) + 1;
  const out: number[] = [];
  for (let p = 0; p < n * c; p++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    const window: number[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const iy = y * stride + i - padding;
      const ix = xx * stride + j - padding;
      window.push(iy >= 0 && iy < h && ix >= 0 && ix < w ? x.data[(p * h + iy) * w + ix] : pad);
    }
    out.push(reduce(window));
  }
  return out;
}

/** Rows of the last axis of a [rows, n] view. */
function rowsOf(x: Tensor): number[][] {
  const n = x.shape[x.rank - 1];
  const rows: number[][] = [];
  for (let r = 0; r < x.size / n; r++) rows.push(Array.from(x.data.subarray(r * n, (r + 1) * n)));
  return rows;
}

const positive = (seed: number, shape: number[]) => () => [E.abs(inputs64(seed, shape)[0]).detach()].map((t) => E.add(t, 0.5).detach());

const cases: OpCase[] = [
  { name: 'add (broadcast)', inputs: () => inputs64(1, [2, 3], [3]), fn: E.add, reference: (a, b) => a.toArray().map((v, i) => v + b.data[i % 3]) },
  { name: 'sub (broadcast)', inputs: () => inputs64(2, [2, 1, 3], [4, 1]), fn: E.sub, reference: (a, b) => {
    const out: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) out.push(a.data[i * 3 + k] - b.data[j]);
    return out;
  } },
  { name: 'mul (broadcast)', inputs: () => inputs64(3, [3, 4], [3, 1]), fn: E.mul, reference: (a, b) => a.toArray().map((v, i) => v * b.data[Math.floor(i / 4)]) },
  { name: 'div', inputs: () => [inputs64(4, [3, 4])[0], positive(5, [4])()[0]], fn: E.div, reference: (a, b) => a.toArray().map((v, i) => v / b.data[i % 4]) },
  { name: 'neg', inputs: () => inputs64(6, [5]), fn: E.neg, reference: (a) => map(a, (v) => -v) },
  { name: 'pow', inputs: positive(7, [2, 3]), fn: (x) => E.pow(x, 2.5), reference: (a) => map(a, (v) => v ** 2.5) },
  { name: 'matmul 2-D', inputs: () => inputs64(8, [5, 7], [7, 6]), fn: E.matmul, reference: (a, b) => naiveMatmul(a.toArray(), b.toArray(), 5, 7, 6) },
  { name: 'matmul batched, broadcast B', inputs: () => inputs64(9, [2, 3, 4], [4, 5]), fn: E.matmul, reference: (a, b) => [
    ...naiveMatmul(a.toArray().slice(0, 12), b.toArray(), 3, 4, 5),
    ...naiveMatmul(a.toArray().slice(12), b.toArray(), 3, 4, 5),
  ] },
  { name: 'matmul batched, broadcast A', inputs: () => inputs64(10, [1, 3, 4], [2, 4, 2]), fn: E.matmul, reference: (a, b) => [
    ...naiveMatmul(a.toArray(), b.toArray().slice(0, 8), 3, 4, 2),
    ...naiveMatmul(a.toArray(), b.toArray().slice(8), 3, 4, 2),
  ] },
  { name: 'relu', inputs: () => inputs64(11, [4, 5]), fn: E.relu, reference: (a) => map(a, (v) => Math.max(v, 0)) },
  { name: 'leaky_relu', inputs: () => inputs64(12, [4, 5]), fn: (x) => E.leakyRelu(x, 0.1), reference: (a) => map(a, (v) => (v > 0 ? v : 0.1 * v)) },
  { name: 'sigmoid', inputs: () => inputs64(13, [6]), fn: E.sigmoid, reference: (a) => map(a, (v) => 1 / (1 + Math.exp(-v))) },
  { name: 'tanh', inputs: () => inputs64(14, [6]), fn: E.tanh, reference: (a) => map(a, Math.tanh) },
  { name: 'gelu', inputs: () => inputs64(15, [8]), fn: E.gelu, reference: (a) => map(a, (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2))) },
  { name: 'silu', inputs: () => inputs64(16, [6]), fn: E.silu, reference: (a) => map(a, (v) => v / (1 + Math.exp(-v))) },
  { name: 'softplus', inputs: () => [E.mul(inputs64(17, [6])[0], 10).detach()], fn: E.softplus, reference: (a) => map(a, (v) => (v > 20 ? v : Math.log(1 + Math.exp(v)))) },
  { name: 'exp', inputs: () => inputs64(18, [6]), fn: E.exp, reference: (a) => map(a, Math.exp) },
  { name: 'log', inputs: positive(19, [6]), fn: E.log, reference: (a) => map(a, Math.log) },
  { name: 'sqrt', inputs: positive(20, [6]), fn: E.sqrt, reference: (a) => map(a, Math.sqrt) },
  { name: 'abs', inputs: () => inputs64(21, [6]), fn: E.abs, reference: (a) => map(a, Math.abs) },
  { name: 'softmax (last axis)', inputs: () => inputs64(22, [3, 5]), fn: (x) => E.softmax(x), reference: (a) => rowsOf(a).flatMap((r) => {
    const total = r.reduce((s, v) => s + Math.exp(v), 0);
    return r.map((v) => Math.exp(v) / total);
  }) },
  { name: 'softmax (axis 0)', inputs: () => inputs64(23, [3, 2]), fn: (x) => E.softmax(x, 0), reference: (a) => {
    const out = new Array<number>(6);
    for (let j = 0; j < 2; j++) {
      const total = [0, 1, 2].reduce((s, i) => s + Math.exp(a.data[i * 2 + j]), 0);
      for (let i = 0; i < 3; i++) out[i * 2 + j] = Math.exp(a.data[i * 2 + j]) / total;
    }
    return out;
  } },
  { name: 'log_softmax', inputs: () => inputs64(24, [3, 5]), fn: (x) => E.logSoftmax(x, -1), reference: (a) => rowsOf(a).flatMap((r) => {
    const total = r.reduce((s, v) => s + Math.exp(v), 0);
    return r.map((v) => v - Math.log(total));
  }) },
  { name: 'sum (all)', inputs: () => inputs64(25, [3, 4]), fn: (x) => E.sum(x), reference: (a) => [a.toArray().reduce((s, v) => s + v, 0)] },
  { name: 'sum (axis 1, keepdims)', inputs: () => inputs64(26, [3, 4]), fn: (x) => E.sum(x, { axis: 1, keepdims: true }), reference: (a) => rowsOf(a).map((r) => r.reduce((s, v) => s + v, 0)) },
  { name: 'mean (axis 0)', inputs: () => inputs64(27, [3, 4]), fn: (x) => E.mean(x, { axis: 0 }), reference: (a) => [0, 1, 2, 3].map((j) => (a.data[j] + a.data[4 + j] + a.data[8 + j]) / 3) },
  { name: 'max (axis -1)', inputs: () => inputs64(28, [3, 4]), fn: (x) => E.max(x, { axis: -1 }), reference: (a) => rowsOf(a).map((r) => Math.max(...r)) },
  { name: 'max (all)', inputs: () => inputs64(29, [3, 4]), fn: (x) => E.max(x), reference: (a) => [Math.max(...a.toArray())] },
  { name: 'transpose', inputs: () => inputs64(30, [2, 3, 4]), fn: (x) => E.transpose(x, 0, 2), reference: (a) => {
    const out: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) out.push(a.data[(i * 3 + j) * 4 + k]);
    return out;
  } },
  { name: 'reshape', inputs: () => inputs64(31, [2, 6]), fn: (x) => E.reshape(x, [3, -1]), reference: (a) => a.toArray() },
  { name: 'flatten', inputs: () => inputs64(32, [2, 3, 2]), fn: (x) => E.flatten(x), reference: (a) => a.toArray() },
  { name: 'concat (axis 1)', inputs: () => inputs64(33, [2, 2], [2, 3]), fn: (a, b) => E.concat([a, b], 1), reference: (a, b) => [
    a.data[0], a.data[1], b.data[0], b.data[1], b.data[2], a.data[2], a.data[3], b.data[3], b.data[4], b.data[5],
  ] },
  { name: 'max_pool2d', inputs: () => inputs64(34, [2, 2, 5, 5]), fn: (x) => E.maxPool2d(x, 2), reference: (a) => naivePool(a, 2, 2, (w) => Math.max(...w)) },
  { name: 'max_pool2d (stride 1)', inputs: () => inputs64(35, [1, 2, 4, 4]), fn: (x) => E.maxPool2d(x, 3, 1), reference: (a) => naivePool(a, 3, 1, (w) => Math.max(...w)) },
  { name: 'max_pool2d (padding 1)', inputs: () => inputs64(61, [1, 2, 5, 4]), fn: (x) => E.maxPool2d(x, 3, 2, 1), reference: (a) => naivePool(a, 3, 2, (w) => Math.max(...w), 1, -Infinity) },
  { name: 'avg_pool2d (padding 1)', inputs: () => inputs64(62, [2, 1, 4, 5]), fn: (x) => E.avgPool2d(x, 2, 2, 1), reference: (a) => naivePool(a, 2, 2, (w) => w.reduce((s, v) => s + v, 0) / w.length, 1, 0) },
  { name: 'max_pool2d ([C, H, W])', inputs: () => inputs64(63, [3, 4, 4]), fn: (x) => E.maxPool2d(x, 2), reference: (a) => naivePool(new E.Tensor(a.data, [1, 3, 4, 4], 'float64'), 2, 2, (w) => Math.max(...w)) },
  { name: 'avg_pool2d', inputs: () => inputs64(36, [2, 2, 4, 6]), fn: (x) => E.avgPool2d(x, 2), reference: (a) => naivePool(a, 2, 2, (w) => w.reduce((s, v) => s + v, 0) / w.length) },
  { name: 'linear', inputs: () => inputs64(37, [4, 5], [3, 5], [3]), fn: (x, w, b) => E.linear(x, w, b), reference: (x, w, b) => {
    const out: number[] = [];
    for (let i = 0; i < 4; i++) for (let o = 0; o < 3; o++) {
      let s = b.data[o];
      for (let k = 0; k < 5; k++) s += x.data[i * 5 + k] * w.data[o * 5 + k];
      out.push(s);
    }
    return out;
  } },
  { name: 'linear (3-D input, no bias)', inputs: () => inputs64(38, [2, 3, 4], [5, 4]), fn: (x, w) => E.linear(x, w), reference: (x, w) => {
    const out: number[] = [];
    for (let r = 0; r < 6; r++) for (let o = 0; o < 5; o++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += x.data[r * 4 + k] * w.data[o * 4 + k];
      out.push(s);
    }
    return out;
  } },
  { name: 'conv2d', inputs: () => inputs64(39, [2, 3, 6, 5], [4, 3, 3, 3], [4]), fn: (x, w, b) => E.conv2d(x, w, b), reference: (x, w, b) => naiveConv(x, w, b, 1, 0) },
  { name: 'conv2d (stride 2, padding 1)', inputs: () => inputs64(40, [1, 2, 5, 5], [3, 2, 3, 3], [3]), fn: (x, w, b) => E.conv2d(x, w, b, { stride: 2, padding: 1 }), reference: (x, w, b) => naiveConv(x, w, b, 2, 1) },
  { name: 'conv2d (no bias, 1×1)', inputs: () => inputs64(41, [2, 3, 3, 3], [2, 3, 1, 1]), fn: (x, w) => E.conv2d(x, w), reference: (x, w) => naiveConv(x, w, null, 1, 0) },
  { name: 'layer_norm', inputs: () => inputs64(42, [3, 5], [5], [5]), fn: (x, w, b) => E.layerNorm(x, w, b), reference: (x, w, b) => rowsOf(x).flatMap((r) => {
    const mu = r.reduce((s, v) => s + v, 0) / r.length;
    const variance = r.reduce((s, v) => s + (v - mu) ** 2, 0) / r.length;
    return r.map((v, f) => ((v - mu) / Math.sqrt(variance + 1e-5)) * w.data[f] + b.data[f]);
  }) },
  { name: 'batch_norm1d (train)', inputs: () => inputs64(43, [6, 3], [3], [3]), fn: (x, w, b) => E.batchNorm(x, w, b, E.zeros([3], 'float64'), E.ones([3], 'float64'), { training: true }), reference: (x, w, b) => {
    const out = new Array<number>(18);
    for (let c = 0; c < 3; c++) {
      const col = [0, 1, 2, 3, 4, 5].map((n) => x.data[n * 3 + c]);
      const mu = col.reduce((s, v) => s + v, 0) / 6;
      const variance = col.reduce((s, v) => s + (v - mu) ** 2, 0) / 6;
      col.forEach((v, n) => (out[n * 3 + c] = ((v - mu) / Math.sqrt(variance + 1e-5)) * w.data[c] + b.data[c]));
    }
    return out;
  } },
  { name: 'batch_norm2d (train)', inputs: () => inputs64(44, [3, 2, 2, 3], [2], [2]), fn: (x, w, b) => E.batchNorm(x, w, b, E.zeros([2], 'float64'), E.ones([2], 'float64'), { training: true }), reference: (x, w, b) => {
    const out = new Array<number>(36);
    for (let c = 0; c < 2; c++) {
      const at: number[] = [];
      for (let n = 0; n < 3; n++) for (let s = 0; s < 6; s++) at.push((n * 2 + c) * 6 + s);
      const mu = at.reduce((s, i) => s + x.data[i], 0) / at.length;
      const variance = at.reduce((s, i) => s + (x.data[i] - mu) ** 2, 0) / at.length;
      for (const i of at) out[i] = ((x.data[i] - mu) / Math.sqrt(variance + 1e-5)) * w.data[c] + b.data[c];
    }
    return out;
  } },
  { name: 'batch_norm2d (eval)', inputs: () => inputs64(45, [2, 2, 2, 2], [2], [2]), fn: (x, w, b) => E.batchNorm(x, w, b, E.tensor([0.5, -1], { dtype: 'float64' }), E.tensor([2, 0.25], { dtype: 'float64' }), { training: false }), reference: (x, w, b) =>
    x.toArray().map((v, i) => {
      const c = Math.floor(i / 4) % 2;
      const [rm, rv] = c === 0 ? [0.5, 2] : [-1, 0.25];
      return ((v - rm) / Math.sqrt(rv + 1e-5)) * w.data[c] + b.data[c];
    }) },
  { name: 'embedding', inputs: () => [E.tensor([[1, 0], [3, 1]], { dtype: 'int64' }), ...inputs64(46, [4, 3])], fn: (ids, w) => E.embedding(ids, w), reference: (ids, w) =>
    ids.toArray().flatMap((id) => Array.from(w.data.subarray(id * 3, id * 3 + 3))) },
  { name: 'cross_entropy', inputs: () => [...inputs64(47, [4, 5]), E.tensor([0, 4, 2, 2], { dtype: 'int64' })], fn: (x, y) => E.crossEntropy(x, y), reference: (x, y) => [
    rowsOf(x).reduce((s, r, b) => s - (r[y.data[b]] - Math.log(r.reduce((t, v) => t + Math.exp(v), 0))), 0) / 4,
  ] },
  { name: 'mse', inputs: () => inputs64(48, [3, 2], [3, 2]), fn: E.mse, reference: (a, b) => [a.toArray().reduce((s, v, i) => s + (v - b.data[i]) ** 2, 0) / 6] },
  { name: 'bce_with_logits', inputs: () => [E.mul(inputs64(49, [2, 3])[0], 5).detach(), E.sigmoid(inputs64(50, [2, 3])[0]).detach()], fn: E.bceWithLogits, reference: (x, t) => [
    x.toArray().reduce((s, v, i) => {
      const p = 1 / (1 + Math.exp(-v));
      return s - (t.data[i] * Math.log(p) + (1 - t.data[i]) * Math.log(1 - p));
    }, 0) / 6,
  ] },
];

for (const c of cases) {
  test(`${c.name}: forward values, gradient shapes, gradcheck`, () => {
    const xs = c.inputs();
    const out = c.fn(...xs);
    assertClose(out.toArray(), c.reference(...xs), 1e-7, `${c.name} forward`);
    // Gradient shapes: backward from a weighted sum reaches every float input with its own shape.
    const leaves = xs.map((x) => (x.dtype === 'int64' ? x : new E.Tensor(x.data.slice(), x.shape, x.dtype, true)));
    const y = c.fn(...leaves);
    E.sum(E.mul(y, E.randn(y.shape, { rng: new E.Rng(99), dtype: 'float64' }))).backward();
    for (const leaf of leaves) if (leaf.requiresGrad) assert.deepEqual(leaf.grad?.shape, leaf.shape, `${c.name}: gradient shape`);
    assertGradcheck(c.fn, xs);
  });
}

test('gradient values: relu passes the upstream gradient where x > 0', () => {
  const x = E.tensor([-1, 2, -3, 4], { requiresGrad: true });
  E.sum(E.mul(E.relu(x), E.tensor([1, 2, 3, 4]))).backward();
  assert.deepEqual(x.grad?.toArray(), [0, 2, 0, 4]);
});

test('an Inf from above does not pass a unit that is off: sqrt(relu(x)) at x < 0 has gradient 0, as in PyTorch', () => {
  // torch.sqrt(torch.relu(x)).sum().backward() gives [0, 0.3536] at x = [-1, 2], not [nan, …].
  const x = E.tensor([-1, 2], { dtype: 'float64', requiresGrad: true });
  E.sum(E.sqrt(E.relu(x))).backward();
  assert.deepEqual(x.grad?.toArray().map((v) => Number(v.toFixed(4))), [0, 0.3536]);
  const y = E.tensor([-1, 2], { dtype: 'float64', requiresGrad: true });
  E.sum(E.sqrt(hardtanh(y, 0, 1))).backward();
  assert.deepEqual(y.grad?.toArray(), [0, 0]);
});

test('gradient values: cross_entropy gives (softmax − onehot) / B', () => {
  const logits = E.tensor([[1, 2, 3], [1, 1, 1]], { dtype: 'float64', requiresGrad: true });
  E.crossEntropy(logits, E.tensor([2, 0], { dtype: 'int64' })).backward();
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const z = e[0] + e[1] + e[2];
  assertClose(logits.grad!.toArray(), [e[0] / z / 2, e[1] / z / 2, (e[2] / z - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6], 1e-12);
});

test('bce_with_logits stays finite for large logits and its gradient at 0 is σ(0) − t', () => {
  const x = E.tensor([1000, -1000, 0], { dtype: 'float64', requiresGrad: true });
  const loss = E.bceWithLogits(x, E.tensor([0, 1, 1], { dtype: 'float64' }));
  assertClose([loss.item()], [(1000 + 1000 + Math.log(2)) / 3], 1e-12);
  loss.backward();
  assertClose(x.grad!.toArray(), [1 / 3, -1 / 3, (0.5 - 1) / 3], 1e-12);
});

test('matmul backward accumulates over a broadcast batch dim', () => {
  const a = E.tensor([[[1, 2]], [[3, 4]]], { requiresGrad: true }); // [2, 1, 2]
  const b = E.tensor([[1], [1]], { requiresGrad: true }); // [2, 1]
  E.sum(E.matmul(a, b)).backward();
  assert.deepEqual(b.grad?.toArray(), [4, 6]);
  assert.deepEqual(a.grad?.toArray(), [1, 1, 1, 1]);
});

test('shape errors come from the shared shape rules, name the op and carry the catalogue code', () => {
  assert.throws(() => E.matmul(E.zeros([2, 3]), E.zeros([4, 2])), /^RangeError: matmul: .*\[2, 3\] @ \[4, 2\].*\(NN2102\)$/);
  assert.throws(() => E.add(E.zeros([2, 3]), E.zeros([4])), /^RangeError: add: .*\[2, 3\] and \[4\].*\(NN2101\)$/);
  assert.throws(() => E.reshape(E.zeros([2, 3]), [4, -1]), /^RangeError: reshape: .*\(NN2106\)$/);
  assert.throws(() => E.conv2d(E.zeros([1, 2, 2, 2]), E.zeros([1, 2, 3, 3])), /^RangeError: conv2d: .*\(NN2105\)$/);
  assert.throws(() => E.linear(E.zeros([2, 3]), E.zeros([4, 5])), /^RangeError: linear: Linear expects input features 5.*\(NN2103\)$/);
  assert.throws(() => E.crossEntropy(E.zeros([2, 3]), E.tensor([0, 3], { dtype: 'int64' })), /label 3 at position 1/);
});

test('matmul accepts a vector operand', () => {
  const m = E.tensor([[1, 2], [3, 4]]);
  assert.deepEqual(E.matmul(m, E.tensor([1, 1])).toArray(), [3, 7]);
  assert.deepEqual(E.matmul(E.tensor([1, 1]), m).toArray(), [4, 6]);
  const [a, v] = inputs64(60, [3, 4], [4]);
  assertGradcheck(E.matmul, [a, v]);
});

test('ops compute in float32 by default and keep float64 when given it', () => {
  const x = E.tensor([1, 2]);
  assert.equal(E.exp(x).dtype, 'float32');
  assert.ok(E.exp(x).data instanceof Float32Array);
  assert.equal(E.exp(E.cast(x, 'float64')).dtype, 'float64');
});
