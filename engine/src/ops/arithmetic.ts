// Arithmetic primitives with NumPy broadcasting: add, sub, mul, div, neg, and pow with a
// number exponent. Backward rules sum each gradient back over the operand's broadcast axes.

import { Tensor } from '../tensor/tensor.js';
import { sameShape } from '../tensor/shape.js';
import { broadcastBinary, sumToShape, type BinaryCode } from '../kernels/elementwise.js';
import { record } from '../autograd/tape.js';
import { inferShape } from './shape-rule.js';
import { asTensor, emptyFloat, requireFloat, resultDType, type Operand } from './operand.js';

/** Elementwise a (op) b into a new tensor of the broadcast shape. */
function compute(code: BinaryCode, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const out = emptyFloat(shape, resultDType(a, b));
  broadcastBinary(code, a.values, a.shape, b.values, b.shape, out.values, shape);
  return out;
}

/** A gradient of the output's shape summed down to `input`'s shape. */
export function reduceGradTo(grad: Tensor, input: Tensor): Tensor {
  if (sameShape(grad.shape, input.shape)) return grad;
  const out = emptyFloat(input.shape, grad.dtype);
  sumToShape(grad.values, grad.shape, out.values, input.shape);
  return out;
}

function operands(op: BinaryCode, a: Operand, b: Operand): [Tensor, Tensor, number[]] {
  const ta = asTensor(a, b);
  const tb = asTensor(b, a);
  requireFloat(op, ta, tb);
  return [ta, tb, inferShape(op, [ta.shape, tb.shape], {})];
}

export function add(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('add', a, b);
  return record('add', compute('add', x, y, shape), [x, y], (g) => [reduceGradTo(g, x), reduceGradTo(g, y)]);
}

export function sub(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('sub', a, b);
  return record('sub', compute('sub', x, y, shape), [x, y], (g) => [
    reduceGradTo(g, x),
    y.requiresGrad ? reduceGradTo(negate(g), y) : null,
  ]);
}

export function mul(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('mul', a, b);
  return record('mul', compute('mul', x, y, shape), [x, y], (g) => [
    x.requiresGrad ? reduceGradTo(compute('mul', g, y, g.shape), x) : null,
    y.requiresGrad ? reduceGradTo(compute('mul', g, x, g.shape), y) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('div', a, b);
  const out = compute('div', x, y, shape);
  // d(x/y)/dy = -out / y, so the rule reuses the output instead of squaring y.
  return record('div', out, [x, y], (g) => [
    x.requiresGrad ? reduceGradTo(compute('div', g, y, g.shape), x) : null,
    y.requiresGrad ? reduceGradTo(negate(compute('div', compute('mul', g, out, g.shape), y, g.shape)), y) : null,
  ], [out]);
}

function negate(x: Tensor): Tensor {
  const out = emptyFloat(x.shape, x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let i = 0; i < src.length; i++) dst[i] = -src[i];
  return out;
}

export function neg(x: Tensor): Tensor {
  requireFloat('neg', x);
  inferShape('neg', [x.shape], {});
  return record('neg', negate(x), [x], (g) => [negate(g)]);
}

/** x ** exponent for a number exponent (the language's `**`). */
export function pow(x: Tensor, exponent: number): Tensor {
  requireFloat('pow', x);
  const out = emptyFloat(inferShape('pow', [x.shape], { exponent }), x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let i = 0; i < src.length; i++) dst[i] = Math.pow(src[i], exponent);
  return record('pow', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gd = grad.values;
    const up = g.values;
    for (let i = 0; i < gd.length; i++) gd[i] = up[i] * exponent * Math.pow(src[i], exponent - 1);
    return [grad];
  });
}

