// Ops that read entries several times, as in PyTorch: `expand(x, [sizes])` broadcasts
// size-1 axes (and new leading ones) to the sizes given, `repeat(x, [repeats])` tiles the
// whole tensor. Either gradient sums g over the copies each entry made.

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { argError, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { stridesOf } from '../tensor/shape.js';
import { defineOp, dims, tensor } from './def.js';
import { gather } from './gather.js';
import { pythonDim } from './subscript.js';

const x = tensor('x', { aliases: ['input'] });

/**
 * Expand's shape input: constants, symbolic sizes read from the input's runtime shape. Not
 * ctx.shapeTensor, which writes a symbolic dim as -1 (a reshape's inferred dim; Expand has none).
 */
function shapeInput(ctx: LoweringContext, dimsOut: Shape, input: Val): string {
  if (dimsOut.every((d) => d.isConstant())) return ctx.b.constInt(dimsOut.map((d) => d.constant()!));
  const pieces = dimsOut.map((d) => {
    const n = d.constant();
    if (n !== null) return ctx.b.constInt([n]);
    const at = input.shape.findIndex((s) => s.equals(d));
    if (at < 0) throw ctx.unsupported(`expand with a symbolic size (${d.toString()}) that is no dim of its input`);
    return ctx.b.op1('Shape', [input.name], { start: at, end: at + 1 });
  });
  return ctx.b.op1('Concat', pieces, { axis: 0 });
}

// -- expand ---------------------------------------------------------------------------------

const expandRule = ([input]: readonly Shape[], { sizes }: { sizes: Shape }): RuleResult => {
  const lead = sizes.length - input.length;
  if (lead < 0) return argError('sizes', 'NN2153', ['expand', formatShape(sizes), sizes.length, input.length, formatShape(input)]);
  const out: Dim[] = [];
  for (let k = 0; k < sizes.length; k++) {
    const size = sizes[k];
    const keep = size.equals(-1);
    const from = k - lead;
    if ((keep && from < 0) || (!keep && size.isConstant() && size.constant()! < 1)) {
      return argError('sizes', 'NN2007', ['expand', 'sizes', 'positive sizes, or -1 on an axis of the input', formatShape(sizes)]);
    }
    if (from < 0 || keep || size.equals(input[from])) out.push(keep ? input[from] : size);
    else if (input[from].equals(1)) out.push(size);
    else return argError('sizes', 'NN2154', [from, formatShape(input), input[from].toString(), size.toString()]);
  }
  return { shape: out };
};

export const expandOp = defineOp({
  name: 'expand',
  surface: 'function',
  params: [x, dims('sizes', { aliases: ['size'], keepable: true, doc: '[sizes], one per axis (more add leading axes); -1 keeps an axis' })],
  doc: { summary: 'The tensor broadcast to `sizes`: size-1 axes, and new leading ones, repeat their entries; -1 keeps an axis (torch.Tensor.expand).', gradient: 'dL/dx = g summed over the new and the expanded axes' },
  shape: expandRule,
  linearity: 'shape-only',
  ts: ([input], _attrs, ctx) => {
    const outShape = ctx.concrete(ctx.outShape);
    const lead = outShape.length - input.rank;
    const strides = stridesOf(input.shape);
    return gather('expand', input, outShape, outShape.map((_, k) => ({ stride: k < lead || input.shape[k - lead] === 1 ? 0 : strides[k - lead], period: Infinity })));
  },
  onnx: {
    forward: (ctx, [input], _attrs, [out]) => {
      // Expand broadcasts: a 1 keeps the input's size, so only new and grown sizes are spelled out.
      const lead = out.shape.length - input.shape.length;
      const target = out.shape.map((d, k) => (k >= lead && d.equals(input.shape[k - lead]) ? Dim.of(1) : d));
      return { outputs: [ctx.b.op1('Expand', [input.name, shapeInput(ctx, target, input)])] };
    },
    backward: (ctx, { inputs: [input] }, g) => [ctx.reduceToShape(g, input.shape)],
  },
  pytorch: ([input], _attrs, ctx) => {
    const lead = ctx.outShape.length - ctx.inShapes[0].length;
    const sizes = ctx.outShape.map((d, k) => (k >= lead && d.equals(ctx.inShapes[0][k - lead]) ? '-1' : pythonDim(d, input, ctx.inShapes[0], ctx.inputDim)));
    return `${input}.expand(${sizes.join(', ')})`;
  },
});

// -- repeat ---------------------------------------------------------------------------------

const repeatRule = ([input]: readonly Shape[], { repeats }: { repeats: Shape }): RuleResult => {
  const lead = repeats.length - input.length;
  if (lead < 0) return argError('repeats', 'NN2153', ['repeat', formatShape(repeats), repeats.length, input.length, formatShape(input)]);
  if (repeats.some((r) => r.isConstant() && r.constant()! < 1)) return argError('repeats', 'NN2007', ['repeat', 'repeats', 'positive counts', formatShape(repeats)]);
  return { shape: repeats.map((r, k) => (k < lead ? r : r.mul(input[k - lead]))) };
};

export const repeatOp = defineOp({
  name: 'repeat',
  surface: 'function',
  params: [x, dims('repeats', { aliases: ['sizes'], doc: '[counts], one per axis (more add leading axes)' })],
  doc: { summary: 'The tensor tiled `repeats[k]` times along each axis k, more counts than axes adding leading ones (torch.Tensor.repeat).', gradient: 'dL/dx = the sum of g over the tiles' },
  shape: repeatRule,
  linearity: 'shape-only',
  ts: ([input], _attrs, ctx) => {
    const outShape = ctx.concrete(ctx.outShape);
    const lead = outShape.length - input.rank;
    const strides = stridesOf(input.shape);
    return gather('repeat', input, outShape, outShape.map((_, k) => (k < lead ? { stride: 0, period: Infinity } : { stride: strides[k - lead], period: input.shape[k - lead] })));
  },
  onnx: {
    forward: (ctx, [input], { repeats }) => {
      const lead = repeats.length - input.shape.length;
      // Tile wants one count per axis of its input: new leading axes are added as size 1 first.
      const padded = lead > 0 ? ctx.reshape(input, [...new Array<Dim>(lead).fill(Dim.of(1)), ...input.shape]) : input;
      return { outputs: [ctx.b.op1('Tile', [padded.name, ctx.b.constInt(ctx.constantDims(repeats, 'repeat'))])] };
    },
    backward: (ctx, { inputs: [input], attrs: { repeats } }, g) => {
      // g as [count, size] pairs per axis, summed over the counts.
      const lead = repeats.length - input.shape.length;
      const sizes = repeats.map((_, k) => (k < lead ? Dim.of(1) : input.shape[k - lead]));
      const counts = ctx.constantDims(repeats, 'the gradient of repeat');
      const pairs = ctx.reshape(g, sizes.flatMap((s, k) => [Dim.of(counts[k]), s]), [input]);
      const summed = ctx.sum(pairs, counts.map((_, k) => 2 * k), false);
      return [lead > 0 ? ctx.reshape(summed, input.shape, [input]) : { ...summed, shape: input.shape }];
    },
  },
  pytorch: ([input], { repeats }, ctx) => `${input}.repeat(${repeats.map((r) => pythonDim(r, input, ctx.inShapes[0], ctx.inputDim)).join(', ')})`,
});
