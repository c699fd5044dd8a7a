// Ops that add, drop or reorder axes without touching values, as in PyTorch:
// `unsqueeze(x, dim)` and `squeeze(x, dim)` (views of the same entries) and
// `permute(x, [dims])` (every axis in a new order).

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { argError, normalizeAxis, type RuleResult } from '../shape/rules.js';
import { stridesOf } from '../tensor/shape.js';
import { axes, axis, defineOp, tensor } from './def.js';
import { gather } from './gather.js';
import { reshape } from './layout.js';
import { resolveAxis } from './shape-rule.js';

const x = tensor('x', { aliases: ['input'] });

const unsqueezeRule = ([input]: readonly Shape[], { dim }: { dim: number }): RuleResult => {
  const at = normalizeAxis(dim, input.length + 1);
  if (at === null) return argError('dim', 'NN2109', [dim, formatShape(input)]);
  return { shape: [...input.slice(0, at), Dim.of(1), ...input.slice(at)] };
};

export const unsqueezeOp = defineOp({
  name: 'unsqueeze',
  surface: 'function',
  params: [x, axis('dim', { aliases: ['axis'], doc: 'where the new axis of size 1 goes, in -rank-1 .. rank' })],
  doc: { summary: 'The same entries with a new axis of size 1 at `dim` (torch.unsqueeze).', gradient: 'dL/dx = squeeze(g, dim)' },
  shape: unsqueezeRule,
  keepsDtype: true,
  linearity: 'shape-only',
  ts: ([input], _attrs, ctx) => reshape(input, ctx.concrete(ctx.outShape)),
  onnx: {
    forward: (ctx, [input], { dim }) => ({ outputs: [ctx.b.op1('Unsqueeze', [input.name, ctx.b.constInt([resolveAxis(dim, input.shape.length + 1)])])] }),
    backward: (ctx, { inputs: [input], attrs: { dim } }, g) => [ctx.op('Squeeze', [g.name, ctx.b.constInt([resolveAxis(dim, input.shape.length + 1)])], {}, input.shape)],
  },
  pytorch: ([input], { dim }) => `torch.unsqueeze(${input}, ${dim})`,
});

const squeezeRule = ([input]: readonly Shape[], { dim }: { dim: number }): RuleResult => {
  const at = normalizeAxis(dim, input.length);
  if (at === null) return argError('dim', 'NN2109', [dim, formatShape(input)]);
  // PyTorch leaves an axis of another size in place; here that is the mistake it usually is
  // (the result is unknown: which shape was meant is not).
  if (!input[at].equals(1)) return argError('dim', 'NN2150', [dim, formatShape(input), input[at].toString(), input[at].isConstant() ? '' : ', not known to be 1']);
  return { shape: input.filter((_, k) => k !== at) };
};

export const squeezeOp = defineOp({
  name: 'squeeze',
  surface: 'function',
  params: [x, axis('dim', { aliases: ['axis'], doc: 'the axis of size 1 to remove' })],
  doc: { summary: 'The same entries without axis `dim`, which must have size 1 (torch.squeeze with a dim).', gradient: 'dL/dx = unsqueeze(g, dim)' },
  shape: squeezeRule,
  keepsDtype: true,
  linearity: 'shape-only',
  ts: ([input], _attrs, ctx) => reshape(input, ctx.concrete(ctx.outShape)),
  onnx: {
    forward: (ctx, [input], { dim }) => ({ outputs: [ctx.b.op1('Squeeze', [input.name, ctx.b.constInt([resolveAxis(dim, input.shape.length)])])] }),
    backward: (ctx, { inputs: [input], attrs: { dim } }, g) => [ctx.op('Unsqueeze', [g.name, ctx.b.constInt([resolveAxis(dim, input.shape.length)])], {}, input.shape)],
  },
  pytorch: ([input], { dim }) => `torch.squeeze(${input}, ${dim})`,
});

/** `dims` as non-negative axes when they order all `rank` axes, else null. */
function permutationOf(dims: readonly number[], rank: number): number[] | null {
  if (dims.length !== rank) return null;
  const order = dims.map((d) => normalizeAxis(d, rank));
  if (order.some((a) => a === null) || new Set(order).size !== rank) return null;
  return order as number[];
}

/** The permutation that undoes `order`. */
function inverse(order: readonly number[]): number[] {
  const out = new Array<number>(order.length);
  order.forEach((from, to) => (out[from] = to));
  return out;
}

const permuteRule = ([input]: readonly Shape[], { dims }: { dims: readonly number[] }): RuleResult => {
  const order = permutationOf(dims, input.length);
  if (order === null) return argError('dims', 'NN2151', [`[${dims.join(', ')}]`, input.length, formatShape(input)]);
  return { shape: order.map((a) => input[a]) };
};

/** The checked order (the rule accepted it). */
function orderOf(dims: readonly number[], rank: number): number[] {
  const order = permutationOf(dims, rank);
  if (order === null) throw new RangeError(`[${dims.join(', ')}] is no order of ${rank} axes`);
  return order;
}

export const permuteOp = defineOp({
  name: 'permute',
  surface: 'function',
  params: [x, axes('dims', { doc: 'every axis once, in the new order; negative ones count from the end' })],
  doc: { summary: 'The axes in the order `dims` lists them: output axis k is input axis dims[k] (torch.permute).', gradient: 'dL/dx = permute(g, the inverse order of dims)' },
  shape: permuteRule,
  linearity: 'shape-only',
  ts: ([input], { dims }) => {
    const order = orderOf(dims, input.rank);
    const strides = stridesOf(input.shape);
    return gather('permute', input, order.map((a) => input.shape[a]), order.map((a) => ({ stride: strides[a], period: Infinity })));
  },
  onnx: {
    forward: (ctx, [input], { dims }) => ({ outputs: [ctx.b.op1('Transpose', [input.name], { perm: orderOf(dims, input.shape.length) })] }),
    backward: (ctx, { inputs: [input], attrs: { dims } }, g) => [ctx.op('Transpose', [g.name], { perm: inverse(orderOf(dims, input.shape.length)) }, input.shape)],
  },
  pytorch: ([input], { dims }) => `${input}.permute(${dims.join(', ')})`,
});
