// Elementwise primitives of one tensor. Each is one definition: its forward function and
// its derivative (from the input x and the output y); the shape rule is the identity rule.

import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { inferShape } from './shape-rule.js';
import type { OpAttrs } from '../shape/rules.js';
import { emptyFloat, requireFloat } from './operand.js';
import { erf } from './erf.js';
import { reluBackward, reluForward } from '../kernels/elementwise.js';

type Forward = (x: number) => number;
type Derivative = (x: number, y: number) => number;

type UnaryOp = 'relu' | 'leaky_relu' | 'sigmoid' | 'tanh' | 'gelu' | 'silu' | 'softplus' | 'exp' | 'log' | 'sqrt' | 'abs';

function unary(op: UnaryOp, x: Tensor, forward: Forward, derivative: Derivative, attrs: OpAttrs[UnaryOp] = {}): Tensor {
  requireFloat(op, x);
  const out = emptyFloat(inferShape<UnaryOp>(op, [x.shape], attrs), x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let i = 0; i < src.length; i++) dst[i] = forward(src[i]);
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gd = grad.values;
    const up = g.values;
    for (let i = 0; i < gd.length; i++) gd[i] = up[i] * derivative(src[i], dst[i]);
    return [grad];
  }, [out]);
}

const sigmoidOf = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** PyTorch's softplus switches to the identity above this input (beta = 1). */
const SOFTPLUS_THRESHOLD = 20;

/** NOTE: relu has its own kernels rather than `unary`'s callbacks: it is the hot activation. */
export function relu(x: Tensor): Tensor {
  requireFloat('relu', x);
  const out = emptyFloat(inferShape('relu', [x.shape], {}), x.dtype);
  reluForward(x.values, out.values);
  return record('relu', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    reluBackward(g.values, out.values, grad.values);
    return [grad];
  }, [out]);
}

export const leakyRelu = (x: Tensor, slope = 0.01): Tensor =>
  unary('leaky_relu', x, (v) => (v > 0 ? v : slope * v), (v) => (v > 0 ? 1 : slope), { slope });

export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, sigmoidOf, (_v, y) => y * (1 - y));

export const tanh = (x: Tensor): Tensor => unary('tanh', x, Math.tanh, (_v, y) => 1 - y * y);

/** The exact GELU, x·Φ(x), PyTorch's default (approximate = 'none'). */
export const gelu = (x: Tensor): Tensor =>
  unary(
    'gelu',
    x,
    (v) => 0.5 * v * (1 + erf(v * INV_SQRT2)),
    (v) => 0.5 * (1 + erf(v * INV_SQRT2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v),
  );

export const silu = (x: Tensor): Tensor =>
  unary('silu', x, (v) => v * sigmoidOf(v), (v) => {
    const s = sigmoidOf(v);
    return s * (1 + v * (1 - s));
  });

export const softplus = (x: Tensor): Tensor =>
  unary(
    'softplus',
    x,
    (v) => (v > SOFTPLUS_THRESHOLD ? v : Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)))),
    (v) => (v > SOFTPLUS_THRESHOLD ? 1 : sigmoidOf(v)),
  );

export const exp = (x: Tensor): Tensor => unary('exp', x, Math.exp, (_v, y) => y);

export const log = (x: Tensor): Tensor => unary('log', x, Math.log, (v) => 1 / v);

export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, Math.sqrt, (_v, y) => 0.5 / y);

/** |x|, with gradient sign(x) and 0 at 0, as in PyTorch. */
export const abs = (x: Tensor): Tensor => unary('abs', x, Math.abs, (v) => Math.sign(v));
