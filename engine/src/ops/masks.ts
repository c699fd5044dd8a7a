// Selection by a mask and by a diagonal: `where(condition, x, y)` and `masked_fill(x, mask,
// value)` with NumPy broadcasting as in PyTorch (a mask is a comparison's result, held as float
// 0/1 by both back ends; no gradient reaches it), and `tril`/`triu`, which keep the entries of
// the last two axes on and below (above) a diagonal and zero the rest (of a mask: a mask).

import { Tensor } from '../tensor/tensor.js';
import { broadcastBinary } from '../kernels/elementwise.js';
import { record } from '../autograd/tape.js';
import { formatShape, type Shape } from '../shape/dim.js';
import { broadcast, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineOp, int, number, tensor } from './def.js';
import { outputShape } from './shape-rule.js';
import { pyFloat } from './unary.js';
import { reduceGradTo } from './arithmetic.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

/** `t`'s values broadcast to `shape` (adding a zero keeps every value, infinities and NaN included). */
function expanded(t: Tensor, shape: readonly number[]): Float32Array | Float64Array {
  const out = emptyFloat(shape, t.dtype).values;
  broadcastBinary('add', t.values, t.shape, new Float64Array(1), [], out, shape);
  return out;
}

/** The error of a broadcast at the argument that does not fit (its index among the tensors). */
function broadcastAt(a: Shape, b: Shape, input: number): RuleResult {
  const result = broadcast(a, b);
  return 'error' in result ? { ...result, error: { ...result.error, argument: { input } } } : result;
}

export function where(condition: Tensor, x: Tensor, y: Tensor): Tensor {
  requireFloat('where', condition, x, y);
  const shape = outputShape(whereOp, [condition.shape, x.shape, y.shape], {});
  const holds = expanded(condition, shape);
  const xs = expanded(x, shape);
  const ys = expanded(y, shape);
  const out = emptyFloat(shape, resultDType(x, y));
  for (let i = 0; i < out.size; i++) out.values[i] = holds[i] !== 0 ? xs[i] : ys[i];
  return record('where', out, [condition, x, y], (g) => {
    const gx = emptyFloat(shape, g.dtype);
    const gy = emptyFloat(shape, g.dtype);
    for (let i = 0; i < g.size; i++) (holds[i] !== 0 ? gx : gy).values[i] = g.values[i];
    return [null, reduceGradTo(gx, x), reduceGradTo(gy, y)];
  });
}

export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  requireFloat('masked_fill', x, mask);
  const shape = outputShape(maskedFillOp, [x.shape, mask.shape], { value });
  const filled = expanded(mask, shape);
  const xs = expanded(x, shape);
  const out = emptyFloat(shape, x.dtype);
  for (let i = 0; i < out.size; i++) out.values[i] = filled[i] !== 0 ? value : xs[i];
  return record('masked_fill', out, [x, mask], (g) => {
    const gx = emptyFloat(shape, g.dtype);
    for (let i = 0; i < g.size; i++) gx.values[i] = filled[i] !== 0 ? 0 : g.values[i];
    return [reduceGradTo(gx, x), null];
  });
}

/** Zeroes the entries of each matrix (the last two axes) off the kept triangle: col − row ≤ k (tril) or ≥ k (triu). */
function keepTriangle(values: Float32Array | Float64Array, shape: readonly number[], upper: boolean, diagonal: number, into: Float32Array | Float64Array): void {
  const rows = shape[shape.length - 2];
  const cols = shape[shape.length - 1];
  for (let base = 0; base < values.length; base += rows * cols) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const kept = upper ? c - r >= diagonal : c - r <= diagonal;
        into[base + r * cols + c] = kept ? values[base + r * cols + c] : 0;
      }
    }
  }
}

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  requireFloat(op, x);
  outputShape(TRIANGLES[op], [x.shape], { diagonal });
  const out = emptyFloat(x.shape, x.dtype);
  keepTriangle(x.values, x.shape, op === 'triu', diagonal, out.values);
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    keepTriangle(g.values, x.shape, op === 'triu', diagonal, grad.values);
    return [grad];
  });
}

// -- definitions ---------------------------------------------------------------------------

/** A mask as ONNX's Where takes it: bool. */
const asBool = (ctx: LoweringContext, mask: Val): string => ctx.b.op1('Cast', [mask.name], { to: 9 });

export const whereOp = defineOp({
  name: 'where',
  surface: 'function',
  params: [
    tensor('condition', { aliases: ['cond'], doc: 'a mask (a comparison\'s result): where it holds the result is `x`' }),
    tensor('x', { aliases: ['input'], doc: 'the values where the condition holds' }),
    tensor('y', { aliases: ['other'], doc: 'the values elsewhere' }),
  ],
  doc: {
    summary: '`x` where the mask `condition` holds, `y` elsewhere (torch.where), the three broadcast together; a mask when `x` and `y` both are.',
    gradient: 'dL/dx = g where the condition holds, dL/dy = g elsewhere (each summed over its broadcast axes); none reaches the mask',
  },
  shape: ([condition, x, y]) => {
    const values = broadcastAt(x, y, 2);
    if ('error' in values) return values;
    return broadcastAt(values.shape, condition, 0);
  },
  takesMasks: true,
  maskInputs: [0],
  masksFrom: [1, 2],
  gradInputs: () => [1, 2],
  ts: ([condition, x, y]) => where(condition, x, y),
  onnx: {
    forward: (ctx, [condition, x, y]) => ({ outputs: [ctx.b.op1('Where', [asBool(ctx, condition), x.name, y.name])] }),
    backward: (ctx, { inputs: [condition, x, y] }, g, needs) => {
      const holds = asBool(ctx, condition);
      const part = (k: number, picked: [string, string]) => (needs[k] ? ctx.reduceToShape(ctx.op('Where', [holds, ...picked], {}, g.shape), [x, y][k - 1].shape) : null);
      return [null, part(1, [g.name, ctx.zero()]), part(2, [ctx.zero(), g.name])];
    },
  },
  pytorch: ([condition, x, y]) => `torch.where(${condition}, ${x}, ${y})`,
});

export const maskedFillOp = defineOp({
  name: 'masked_fill',
  surface: 'function',
  params: [
    tensor('x', { aliases: ['input'] }),
    tensor('mask', { doc: 'a mask (a comparison\'s result): the entries set to `value`' }),
    number('value', { doc: 'the value written where the mask holds (a large negative number drops attention scores)' }),
  ],
  doc: {
    summary: '`x` with `value` written where the mask holds (torch.masked_fill), `x` and the mask broadcast together.',
    gradient: 'dL/dx = g where the mask does not hold, 0 where it does (summed over x\'s broadcast axes)',
  },
  shape: ([x, mask]) => broadcastAt(x, mask, 1),
  maskInputs: [1],
  gradInputs: () => [0],
  ts: ([x, mask], { value }) => maskedFill(x, mask, value),
  onnx: {
    forward: (ctx, [x, mask], { value }) => ({ outputs: [ctx.b.op1('Where', [asBool(ctx, mask), ctx.scalar(value), x.name])] }),
    backward: (ctx, { inputs: [x, mask] }, g) => [ctx.reduceToShape(ctx.op('Where', [asBool(ctx, mask), ctx.zero(), g.name], {}, g.shape), x.shape), null],
  },
  pytorch: ([x, mask], { value }) => `torch.masked_fill(${x}, ${mask}, ${pyFloat(value)})`,
});

function triangleDef<const N extends 'tril' | 'triu'>(name: N, kept: string) {
  const upper = name === 'triu';
  return defineOp({
    name,
    surface: 'function',
    params: [
      tensor('x', { aliases: ['input'] }),
      int('diagonal', { default: 0, doc: 'the diagonal kept: 0 the main one, k > 0 above it, k < 0 below' }),
    ],
    doc: { summary: `The entries of the last two axes ${kept} the \`diagonal\`, the others zero (torch.${name}); of a mask, a mask.`, gradient: `dL/dx = g ${kept} the diagonal, 0 elsewhere` },
    shape: ([x]) => (x.length < 2 ? { error: { code: 'NN2108', args: [name, 'a tensor of at least 2 dims (the last two a matrix)', { input: 0 }, formatShape(x)], argument: { input: 0 } } } : { shape: x }),
    linearity: 'shape-only',
    takesMasks: true,
    masksFrom: [0],
    ts: ([x], { diagonal }) => triangle(name, x, diagonal),
    onnx: {
      forward: (ctx, [x], { diagonal }) => ({ outputs: [ctx.b.op1('Trilu', [x.name, ctx.b.constInt(diagonal)], { upper: upper ? 1 : 0 })] }),
      backward: (ctx, { inputs: [x], attrs: { diagonal } }, g) => [ctx.op('Trilu', [g.name, ctx.b.constInt(diagonal)], { upper: upper ? 1 : 0 }, x.shape)],
    },
    pytorch: ([x], { diagonal }) => `torch.${name}(${x}${diagonal === 0 ? '' : `, diagonal=${diagonal}`})`,
  });
}

export const trilOp = triangleDef('tril', 'on and below');
export const triuOp = triangleDef('triu', 'on and above');

const TRIANGLES = { tril: trilOp, triu: triuOp } as const;
