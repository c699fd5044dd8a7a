// Reductions over one axis (or all elements): sum, mean, max and min, with keepdims.
// max and min send their gradient to the first position of each extremum, like PyTorch's max(dim).

import { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { normalizeAxis, ruleError, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { axis, bool, defineOp, tensor, type OpDoc } from './def.js';
import { outputShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

export interface ReduceOptions {
  /** The axis to reduce; all axes when omitted. */
  axis?: number;
  keepdims?: boolean;
}

/** (outer, length, inner) of the reduced layout: all elements form one axis when no axis is given. */
function layoutOf(x: Tensor, axis: number | undefined): { outer: number; length: number; inner: number } {
  if (axis === undefined) return { outer: 1, length: x.size, inner: 1 };
  return splitAtAxis(x.shape, resolveAxis(axis, x.rank));
}

function attrsOf(options: ReduceOptions): ReduceAttrs {
  return { axis: options.axis, keepdims: options.keepdims ?? false };
}

/** Sum over the axis, scaled by `scale` (1 for sum, 1/n for mean). */
function scaledSum(op: 'sum' | 'mean', x: Tensor, options: ReduceOptions, scaleOf: (length: number) => number): Tensor {
  requireFloat(op, x);
  const out = emptyFloat(outputShape(REDUCTIONS[op], [x.shape], attrsOf(options)), x.dtype);
  const { outer, length, inner } = layoutOf(x, options.axis);
  const scale = scaleOf(length);
  const src = x.values;
  const dst = out.values;
  // Summed in float64 and rounded once: a float32 running sum drifts by up to n·ε over a
  // long axis, where ONNX's ReduceSum does not (the soundness campaign saw it amplified).
  const total = new Float64Array(dst.length);
  for (let o = 0; o < outer; o++) {
    const base = o * length * inner;
    for (let l = 0; l < length; l++) {
      const row = base + l * inner;
      for (let i = 0; i < inner; i++) total[o * inner + i] += src[row + i];
    }
  }
  for (let i = 0; i < dst.length; i++) dst[i] = total[i] * scale;
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    const gd = grad.values;
    for (let o = 0; o < outer; o++) {
      for (let l = 0; l < length; l++) {
        const row = (o * length + l) * inner;
        for (let i = 0; i < inner; i++) gd[row + i] = up[o * inner + i] * scale;
      }
    }
    return [grad];
  });
}

export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  return scaledSum('sum', x, options, () => 1);
}

export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  return scaledSum('mean', x, options, (length) => 1 / length);
}

/**
 * The first extremum of each reduced row (a NaN wins, as in PyTorch): its value and its index
 * along the reduced axis (the flat index when every axis is reduced).
 */
export function extremum(op: string, x: Tensor, axis: number | undefined, exceeds: (value: number, best: number) => boolean, start: number): { values: Float64Array; along: Int32Array; positions: Int32Array } {
  const { outer, length, inner } = layoutOf(x, axis);
  if (length === 0) throw new RangeError(`${op}: cannot reduce an empty axis`);
  const values = new Float64Array(outer * inner);
  const along = new Int32Array(outer * inner);
  const positions = new Int32Array(outer * inner);
  const src = x.values;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = start;
      let at = 0;
      for (let l = 0; l < length; l++) {
        const v = src[(o * length + l) * inner + i];
        if (exceeds(v, best) || Number.isNaN(v)) {
          best = v;
          at = l;
          if (Number.isNaN(v)) break;
        }
      }
      values[o * inner + i] = best;
      along[o * inner + i] = at;
      positions[o * inner + i] = (o * length + at) * inner + i;
    }
  }
  return { values, along, positions };
}

/** max or min: the gradient goes to the first position of each extremum, like PyTorch's max(dim). */
function extremeValue(op: 'max' | 'min', x: Tensor, options: ReduceOptions): Tensor {
  requireFloat(op, x);
  const out = emptyFloat(outputShape(op === 'max' ? maxOp : minOp, [x.shape], attrsOf(options)), x.dtype);
  const { values, positions } = op === 'max' ? extremum(op, x, options.axis, (v, best) => v > best, -Infinity) : extremum(op, x, options.axis, (v, best) => v < best, Infinity);
  out.values.set(values);
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    for (let j = 0; j < positions.length; j++) grad.values[positions[j]] = up[j];
    return [grad];
  }, [new Tensor(positions, [positions.length], 'int64')]);
}

export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extremeValue('max', x, options);
}

export function min(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extremeValue('min', x, options);
}

// -- definitions ---------------------------------------------------------------------------

export interface ReduceAttrs {
  axis: number | undefined;
  keepdims: boolean;
}

export const reduceRule = ([x]: readonly Shape[], attrs: ReduceAttrs): RuleResult => {
  if (attrs.axis === undefined) return { shape: attrs.keepdims ? x.map(() => Dim.of(1)) : [] };
  const at = normalizeAxis(attrs.axis, x.length);
  if (at === null) return ruleError('NN2109', [attrs.axis, formatShape(x)]);
  return { shape: attrs.keepdims ? x.map((d, k) => (k === at ? Dim.of(1) : d)) : x.filter((_, k) => k !== at) };
};

/** The reduced axes: the one given, or every axis. */
export function axesOf(attrs: ReduceAttrs, rank: number): number[] {
  return attrs.axis === undefined ? Array.from({ length: rank }, (_, i) => i) : [resolveAxis(attrs.axis, rank)];
}

export const reduceParams = [
  tensor('x', { aliases: ['input'] }),
  axis('axis', { default: null, aliases: ['dim'], doc: 'the axis to reduce; every axis when absent' }),
  bool('keepdims', { default: false, aliases: ['keepdim'], doc: 'keep the reduced axis with size 1' }),
] as const;

function pyArgs(attrs: ReduceAttrs): string {
  return attrs.axis === undefined ? '' : `, dim=${attrs.axis}${attrs.keepdims ? ', keepdim=True' : ''}`;
}

function reduction<const N extends 'sum' | 'mean' | 'max' | 'min'>(
  name: N,
  doc: OpDoc,
  kernel: (x: Tensor, options: ReduceOptions) => Tensor,
  forward: (ctx: LoweringContext, x: Val, axes: number[], keepdims: boolean) => Val,
  backward: (ctx: LoweringContext, x: Val, g: Val, axes: number[], keepdims: boolean) => Val,
  pytorch: (x: string, attrs: ReduceAttrs) => string,
) {
  return defineOp({
    name,
    surface: 'function',
    params: reduceParams,
    doc,
    shape: reduceRule,
    ts: ([x], attrs) => kernel(x, attrs),
    onnx: {
      forward: (ctx, [x], attrs) => ({ outputs: [forward(ctx, x, axesOf(attrs, x.shape.length), attrs.keepdims).name] }),
      backward: (ctx, { inputs: [x], attrs }, g) => [backward(ctx, x, g, axesOf(attrs, x.shape.length), attrs.keepdims)],
    },
    pytorch: ([x], attrs) => pytorch(x, attrs),
  });
}

export const sumOp = reduction(
  'sum',
  { summary: 'Sum over `axis` (every axis when absent).', gradient: 'dL/dx = g broadcast back over the summed axis' },
  sum,
  (ctx, x, axes, keepdims) => ctx.sum(x, axes, keepdims),
  (ctx, x, g, axes, keepdims) => ctx.expandBack(g, x, axes, keepdims),
  (x, attrs) => `torch.sum(${x}${pyArgs(attrs)})`,
);

export const meanOp = reduction(
  'mean',
  { summary: 'Mean over `axis` (every axis when absent).', gradient: 'dL/dx = g / n broadcast back over the averaged axis' },
  mean,
  (ctx, x, axes, keepdims) => ctx.reduce('ReduceMean', x, axes, keepdims),
  (ctx, x, g, axes, keepdims) => ctx.binary('Div', ctx.expandBack(g, x, axes, keepdims), ctx.count(x, axes), x),
  (x, attrs) => `torch.mean(${x}${pyArgs(attrs)})`,
);

/** The gradient of max or min: g at the first position of each extremum (ArgMax or ArgMin), like PyTorch's max(dim). */
function extremumBackward(first: 'ArgMax' | 'ArgMin') {
  return (ctx: LoweringContext, x: Val, g: Val, axes: number[], keepdims: boolean): Val => {
    if (axes.length === 1) {
      const length = ctx.constantDims([x.shape[axes[0]]], `${first === 'ArgMax' ? 'max' : 'min'} over an axis`)[0];
      const at = ctx.b.op1(first, [x.name], { axis: axes[0], keepdims: 0 });
      const mask = ctx.b.op1('OneHot', [at, ctx.b.constInt([length]), ctx.b.constFloat([0, 1])], { axis: axes[0] });
      return ctx.op('Mul', [mask, ctx.expandBack(g, x, axes, keepdims).name], {}, x.shape);
    }
    const n = Dim.named('N');
    const flat = ctx.reshape(x, [Dim.of(1), n], []);
    const at = ctx.b.op1(first, [flat.name], { axis: 1, keepdims: 0 });
    const count = ctx.b.op1('Shape', [flat.name], { start: 1, end: 2 });
    const mask = ctx.b.op1('OneHot', [at, count, ctx.b.constFloat([0, 1])], { axis: 1 });
    const spread = ctx.op('Mul', [mask, ctx.reshape(g, [Dim.of(1), Dim.of(1)], []).name], {}, [Dim.of(1), n]);
    return ctx.op('Reshape', [spread.name, ctx.b.op1('Shape', [x.name])], {}, x.shape);
  };
}

export const maxOp = reduction(
  'max',
  { summary: 'Maximum over `axis` (every axis when absent); the gradient goes to the first arg-max only.', gradient: 'dL/dx = g at the first arg-max, 0 elsewhere' },
  max,
  (ctx, x, axes, keepdims) => ctx.reduce('ReduceMax', x, axes, keepdims),
  extremumBackward('ArgMax'),
  (x, attrs) => (attrs.axis === undefined ? `torch.max(${x})` : `torch.max(${x}${pyArgs(attrs)}).values`),
);

export const minOp = reduction(
  'min',
  { summary: 'Minimum over `axis` (every axis when absent); the gradient goes to the first arg-min only.', gradient: 'dL/dx = g at the first arg-min, 0 elsewhere' },
  min,
  (ctx, x, axes, keepdims) => ctx.reduce('ReduceMin', x, axes, keepdims),
  extremumBackward('ArgMin'),
  (x, attrs) => (attrs.axis === undefined ? `torch.min(${x})` : `torch.min(${x}${pyArgs(attrs)}).values`),
);

const REDUCTIONS = { sum: sumOp, mean: meanOp } as const;
