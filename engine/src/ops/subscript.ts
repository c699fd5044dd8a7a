// Indexing and slicing as in PyTorch, `x[:, -1]`, `x[..., 1:T-1:2]`: per axis an index
// (the axis is dropped), a slice with a constant step, or the whole axis. Bounds are dims,
// so shapes stay symbolic; a negative bound counts from the end, constant bounds of a slice
// clamp to the axis as Python's do. The gradient is g placed back at the entries taken.

import { record } from '../autograd/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { stridesOf } from '../tensor/shape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { ruleError, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineOpWith } from './def.js';
import { constantShape } from './shape-rule.js';
import { emptyFloat } from './operand.js';

/**
 * The subscript as written: `items` lists its items comma-separated, each `...`, `i` (an
 * index) or a slice `[s]:[e][:step]` (`s`, `e` mark a bound written, the step a constant);
 * the bounds written (`i`, `s`, `e`) are `bounds`, in order.
 */
export interface SubscriptAttrs {
  items: string;
  bounds: Shape;
}

/** What a subscript takes of one input axis: `count` entries from `start`, `step` apart; `drop` for an index. */
export interface AxisCut {
  start: Dim;
  count: Dim;
  step: number;
  drop: boolean;
}

const SLICE = /^(s?):(e?)(?::(\d+))?$/;

/** A bound on an axis of `size`: a negative one counts from the end. */
function fromStart(bound: Dim, size: Dim): Dim {
  return bound.isNegative() ? size.add(bound) : bound;
}

/** Python's clamp of a constant slice bound into [0, size]. */
function clamp(at: Dim, size: Dim): Dim {
  const n = size.constant();
  const k = at.constant();
  if (n === null || k === null) return at;
  return Dim.of(Math.min(Math.max(k, 0), n));
}

/** The cut of every input axis, or the rule's error (at the written item it is about). */
export function cutsOf(input: Shape, { items, bounds }: SubscriptAttrs): { cuts: AxisCut[] } | { error: RuleResult } {
  const written = items === '' ? [] : items.split(',');
  const rank = input.length;
  const ellipsis = written.indexOf('...');
  if (ellipsis >= 0 && written.indexOf('...', ellipsis + 1) >= 0) return { error: { error: { code: 'NN2141', args: [], item: written.indexOf('...', ellipsis + 1) } } };
  const indexed = written.length - (ellipsis >= 0 ? 1 : 0);
  if (indexed > rank) return { error: ruleError('NN2142', [indexed, formatShape(input), rank]) };
  const cuts: AxisCut[] = input.map((size) => ({ start: Dim.of(0), count: size, step: 1, drop: false }));
  let next = 0;
  for (let k = 0; k < written.length; k++) {
    const item = written[k];
    if (item === '...') continue;
    const axis = ellipsis >= 0 && k > ellipsis ? rank - (written.length - k) : k;
    const size = input[axis];
    if (item === 'i') {
      const bound = bounds[next++];
      const n = size.constant();
      const at = bound.constant();
      if (n !== null && at !== null && (at < -n || at >= n)) return { error: { error: { code: 'NN2143', args: [at, axis, n], item: k } } };
      cuts[axis] = { start: fromStart(bound, size), count: Dim.of(1), step: 1, drop: true };
      continue;
    }
    const slice = SLICE.exec(item);
    if (slice === null) throw new RangeError(`subscript: no item \`${item}\``);
    const start = slice[1] ? clamp(fromStart(bounds[next++], size), size) : Dim.of(0);
    const stop = slice[2] ? clamp(fromStart(bounds[next++], size), size) : size;
    const step = slice[3] === undefined ? 1 : Number(slice[3]);
    const span = stop.sub(start);
    const count = step === 1 ? span : span.add(step - 1).floorDiv(step);
    const known = count.constant();
    if (known !== null && known < 1) return { error: { error: { code: 'NN2144', args: [axis, formatShape(input)], item: k } } };
    cuts[axis] = { start, count, step, drop: false };
  }
  return { cuts };
}

const subscriptRule = ([input]: readonly Shape[], attrs: SubscriptAttrs): RuleResult => {
  const result = cutsOf(input, attrs);
  if ('error' in result) return result.error;
  return { shape: result.cuts.filter((c) => !c.drop).map((c) => c.count) };
};

/** The cuts over constant dims (a run's). */
function constantCuts(shape: readonly number[], attrs: SubscriptAttrs): { start: number; count: number; step: number; drop: boolean }[] {
  const result = cutsOf(constantShape(shape), attrs);
  if ('error' in result) throw new RangeError(`subscript of [${shape.join(', ')}]: ${JSON.stringify(result.error)}`);
  return result.cuts.map((c) => ({ start: c.start.constant()!, count: c.count.constant()!, step: c.step, drop: c.drop }));
}

/** Copies the entries a subscript takes between `full` (of `shape`) and the dense `part`: `toPart` gathers, else scatters back. */
function copyCut(full: Tensor['data'], part: Tensor['data'], shape: readonly number[], cuts: ReturnType<typeof constantCuts>, toPart: boolean): void {
  const strides = stridesOf(shape);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let offset = cuts.reduce((sum, c, axis) => sum + c.start * strides[axis], 0);
  for (let o = 0; o < part.length; o++) {
    if (toPart) part[o] = full[offset];
    else full[offset] = part[o];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      offset += cuts[axis].step * strides[axis];
      if (index[axis] < cuts[axis].count) break;
      offset -= cuts[axis].step * strides[axis] * cuts[axis].count;
      index[axis] = 0;
    }
  }
}

export function subscript(x: Tensor, attrs: SubscriptAttrs): Tensor {
  const cuts = constantCuts(x.shape, attrs);
  const shape = cuts.filter((c) => !c.drop).map((c) => c.count);
  if (x.dtype === 'int64') {
    // Token ids (`ids[:, :-1]`): the same entries, no gradient.
    const ids = new Tensor(new Int32Array(shape.reduce((a, b) => a * b, 1)), shape, 'int64');
    copyCut(x.data, ids.data, x.shape, cuts, true);
    return ids;
  }
  const out = emptyFloat(shape, x.dtype);
  copyCut(x.values, out.values, x.shape, cuts, true);
  return record('subscript', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    copyCut(grad.values, g.values, x.shape, cuts, false);
    return [grad];
  });
}

/** The cut axes (not the whole axis) with their constant start, count and size, for the ONNX lowering. */
function onnxCuts(ctx: LoweringContext, input: Val, attrs: SubscriptAttrs) {
  const result = cutsOf(input.shape, attrs);
  if ('error' in result) throw new RangeError(`subscript of ${formatShape(input.shape)}: ${JSON.stringify(result.error)}`);
  return result.cuts.flatMap((c, axis) => {
    if (!c.drop && c.step === 1 && c.start.equals(0) && c.count.equals(input.shape[axis])) return [];
    const [start, count] = ctx.constantDims([c.start, c.count], 'a subscript');
    return [{ axis, start, count, step: c.step, drop: c.drop }];
  });
}

/** The gradient of a subscript: g with the dropped axes back, spread `step` apart, padded with zeros to the input. */
function onnxBackward(ctx: LoweringContext, input: Val, attrs: SubscriptAttrs, g: Val): Val {
  const cuts = onnxCuts(ctx, input, attrs);
  const dropped = cuts.filter((c) => c.drop).map((c) => c.axis);
  const keptShape = input.shape.map((d, axis) => {
    const cut = cuts.find((c) => c.axis === axis);
    return cut ? Dim.of(cut.count) : d;
  });
  let grad = dropped.length === 0 ? g : ctx.op('Unsqueeze', [g.name, ctx.b.constInt(dropped)], {}, keptShape);
  for (const cut of cuts.filter((c) => c.step > 1)) {
    // [.., c, ..] -> [.., c, 1, ..] -> zeros after each entry [.., c, step, ..] -> [.., c·step, ..] -> the first (c-1)·step + 1.
    const spread = [...grad.shape.slice(0, cut.axis + 1), Dim.of(1), ...grad.shape.slice(cut.axis + 1)];
    const unsqueezed = ctx.op('Unsqueeze', [grad.name, ctx.b.constInt([cut.axis + 1])], {}, spread);
    const pads = new Array<number>(2 * spread.length).fill(0);
    pads[spread.length + cut.axis + 1] = cut.step - 1;
    const padded = ctx.op('Pad', [unsqueezed.name, ctx.b.constInt(pads)], {}, spread.map((d, k) => (k === cut.axis + 1 ? Dim.of(cut.step) : d)));
    const merged = ctx.reshape(padded, grad.shape.map((d, k) => (k === cut.axis ? Dim.of(cut.count * cut.step) : d)), [padded]);
    const span = (cut.count - 1) * cut.step + 1;
    grad = ctx.op('Slice', [merged.name, ctx.b.constInt([0]), ctx.b.constInt([span]), ctx.b.constInt([cut.axis])], {}, grad.shape.map((d, k) => (k === cut.axis ? Dim.of(span) : d)));
  }
  const rank = input.shape.length;
  const pads = new Array<number>(2 * rank).fill(0);
  for (const cut of cuts) {
    const span = cut.drop ? 1 : (cut.count - 1) * cut.step + 1;
    const [size] = ctx.constantDims([input.shape[cut.axis]], 'the gradient of a subscript');
    pads[cut.axis] = cut.start;
    pads[rank + cut.axis] = size - cut.start - span;
  }
  return ctx.op('Pad', [grad.name, ctx.b.constInt(pads)], {}, input.shape);
}

/** A dim as Python: constants, the input's own dims as `x.shape[i]`, other names as `otherDim` has them (the graph's inputs'). */
export function pythonDim(d: Dim, input: string, inShape: Shape, otherDim: (name: string) => string | null = () => null): string {
  const rendered = d.render((name) => {
    const at = inShape.findIndex((s) => s.singleName() === name);
    return at < 0 ? otherDim(name) : `${input}.shape[${at}]`;
  });
  if (rendered === null) throw new Error(`the dim ${d.toString()} is not a function of ${formatShape(inShape)}`);
  return rendered;
}

export const subscriptOp = defineOpWith<SubscriptAttrs>()({
  name: 'subscript',
  surface: 'operator',
  notation: { kind: 'subscript' },
  params: [],
  doc: {
    summary: 'Indexing and slicing as in PyTorch, `x[:, -1]`, `x[..., 1:T-1:2]`: an index drops its axis, a slice keeps it.',
    gradient: 'dL/dx = g at the entries taken, 0 elsewhere',
  },
  shape: subscriptRule,
  linearity: 'shape-only',
  keepsDtype: true,
  takesMasks: true,
  masksFrom: [0],
  ts: ([input], { items, bounds }, ctx) => subscript(input, { items, bounds: constantShape(ctx.concrete(bounds)) }),
  onnx: {
    forward: (ctx, [input], attrs) => {
      const cuts = onnxCuts(ctx, input, attrs);
      if (cuts.length === 0) return { outputs: [ctx.b.op1('Identity', [input.name])] };
      const ends = cuts.map((c) => c.start + (c.drop ? 1 : (c.count - 1) * c.step + 1));
      const sliced = ctx.b.op1('Slice', [input.name, ctx.b.constInt(cuts.map((c) => c.start)), ctx.b.constInt(ends), ctx.b.constInt(cuts.map((c) => c.axis)), ctx.b.constInt(cuts.map((c) => c.step))]);
      const dropped = cuts.filter((c) => c.drop).map((c) => c.axis);
      return { outputs: [dropped.length === 0 ? sliced : ctx.b.op1('Squeeze', [sliced, ctx.b.constInt(dropped)])] };
    },
    backward: (ctx, { inputs: [input], attrs }, g) => [onnxBackward(ctx, input, attrs, g)],
  },
  pytorch: ([input], { items, bounds }, ctx) => {
    let next = 0;
    const bound = () => pythonDim(bounds[next++], input, ctx.inShapes[0]);
    const written = (items === '' ? [] : items.split(',')).map((item) => {
      if (item === '...') return '...';
      if (item === 'i') return bound();
      const [, s, e, step] = SLICE.exec(item)!;
      return `${s ? bound() : ''}:${e ? bound() : ''}${step === undefined ? '' : `:${step}`}`;
    });
    return `${input}[${written.length === 0 ? '...' : written.join(', ')}]`;
  },
});
