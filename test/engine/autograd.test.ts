// The tape: the seed example, accumulation for reused values, broadcasting gradients,
// the wrong-shape check, noGrad and detach, and float32 round-off emulated in float64.

import test from 'node:test';
import assert from 'node:assert/strict';
import { tensor, add, mul, pow, sub, sum, noGrad, detach, relu, Tensor } from '../../engine/src/index.js';
import { emulatingRoundOff, record } from '../../engine/src/autograd/tape.js';
import { zeros } from '../../engine/src/tensor/tensor.js';

test('seed example: y = x**3 + 5x at x = 2 gives dy/dx = 17', () => {
  const x = tensor(2, { requiresGrad: true });
  const y = add(pow(x, 3), mul(x, 5));
  assert.equal(y.item(), 18);
  y.backward();
  assert.equal(x.grad?.item(), 17);
});

test('a reused tensor accumulates the gradients of all its uses', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const y = sum(add(mul(x, x), mul(x, 3))); // dy/dx = 2x + 3
  y.backward();
  assert.deepEqual(x.grad?.toArray(), [5, 7, 9]);
  // A second backward adds into .grad, as in PyTorch.
  sum(mul(x, 2)).backward();
  assert.deepEqual(x.grad?.toArray(), [7, 9, 11]);
});

test('a diamond (one value feeding two branches) gets both branches', () => {
  const x = tensor(3, { requiresGrad: true });
  const h = mul(x, 2);
  const y = mul(relu(h), h); // y = (2x)², dy/dx = 8x
  y.backward();
  assert.equal(x.grad?.item(), 24);
});

test('broadcast gradients sum back to each input shape', () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true }); // [2, 3]
  const b = tensor([10, 20, 30], { requiresGrad: true }); // [3]
  const c = tensor([[2], [3]], { requiresGrad: true }); // [2, 1]
  const y = sum(mul(add(a, b), c));
  y.backward();
  assert.deepEqual(a.grad?.shape, [2, 3]);
  assert.deepEqual(a.grad?.toArray(), [2, 2, 2, 3, 3, 3]);
  assert.deepEqual(b.grad?.shape, [3]);
  assert.deepEqual(b.grad?.toArray(), [5, 5, 5]);
  assert.deepEqual(c.grad?.shape, [2, 1]);
  assert.deepEqual(c.grad?.toArray(), [66, 75]);
});

test('a scalar number operand takes the tensor dtype and broadcasts', () => {
  const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
  const y = sub(10, x);
  assert.equal(y.dtype, 'float64');
  assert.deepEqual(y.toArray(), [9, 8]);
  sum(y).backward();
  assert.deepEqual(x.grad?.toArray(), [-1, -1]);
});

test('the tape throws, naming the op, when a rule returns a wrongly shaped gradient', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const y = record('broken_op', new Tensor(new Float32Array(3), [3], 'float32'), [x], () => [zeros([2])]);
  assert.throws(() => sum(y).backward(), /backward of broken_op: gradient for input 0 has shape \[2\] but the input has shape \[3\]/);
});

test('noGrad records nothing; detach cuts the gradient', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = noGrad(() => mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const z = sum(add(mul(detach(x), x), x)); // d/dx = detached x + 1
  z.backward();
  assert.deepEqual(x.grad?.toArray(), [2, 3]);
});

test('backward needs a scalar or an explicit upstream gradient', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = mul(x, 3);
  assert.throws(() => y.backward(), /only for a scalar/);
  y.backward(tensor([1, 10]));
  assert.deepEqual(x.grad?.toArray(), [3, 30]);
});

test('emulated float32 round-off: a float64 gradient that cancels carries round-off of the size of its terms', async () => {
  // d/db Σ (b·c_i)·d_i = Σ c_i·d_i = 0.5 + 0.25 − 0.75 = 0; float32 would round each term by up to 2^-24 of it.
  const c = tensor([1, 1, 1], { dtype: 'float64' });
  const d = tensor([0.5, 0.25, -0.75], { dtype: 'float64' });
  const gradient = async () => {
    const b = tensor([1], { dtype: 'float64', requiresGrad: true });
    sum(mul(mul(b, c), d)).backward();
    return b.grad!.item();
  };
  assert.equal(await gradient(), 0);
  const emulated: number[] = [];
  for (const seed of [1, 2, 3, 4]) emulated.push(await emulatingRoundOff(seed, gradient));
  assert.ok(emulated.some((g) => g !== 0), `${emulated}`);
  assert.ok(emulated.every((g) => Math.abs(g) <= 2 * 2 ** -24 * (0.5 + 0.25 + 0.75)), `${emulated} is round-off of the terms`);
});

test('emulated float32 round-off: a float64 value an op computes moves by 2^-24, equal values alike, a copied one not; float32 is left alone', async () => {
  const values = (dtype: 'float32' | 'float64') => async () => {
    const x = tensor([2, 2, 5], { dtype, requiresGrad: true });
    return [...mul(x, 3).toArray(), ...relu(x).toArray()];
  };
  const [a, b, c, ...copied] = await emulatingRoundOff(1, values('float64'));
  assert.equal(a, b);
  assert.equal(Math.abs(a - 6), 6 * 2 ** -24);
  assert.equal(Math.abs(c - 15), 15 * 2 ** -24);
  assert.deepEqual(copied, [2, 2, 5]);
  assert.deepEqual(await emulatingRoundOff(1, values('float32')), await values('float32')());
});
