// One shape rule per IR op (the op names of api.ts's IrNode): given input shapes over
// symbolic or constant dims and the op's attributes, the output shape or a catalogue error.
// The checker and the engine both call these, so they cannot disagree about shapes.

import { Dim, formatShape, shapesEqual, type Shape } from './dim.js';

export interface ShapeRuleError {
  /** A code of engine/src/lang/diagnostics.ts; `args` fill its template directly. */
  code: string;
  args: (string | number)[];
}

/**
 * The output shape, or an error. An error may still carry the shape the op would have
 * produced had its input fit, so a checker can go on without a cascade of errors.
 */
export type ShapeRuleResult = { shape: Shape } | { error: ShapeRuleError; shape?: Shape };

/** In these codes' arguments, the index that names the offending input; rules put `input` there. */
export const INPUT_TEXT_ARG: Readonly<Record<string, number>> = { NN2103: 1, NN2104: 2, NN2108: 2, NN2111: 2 };
/** In these codes' arguments, the index of an optional remark on the input's origin; rules leave it empty. */
export const ORIGIN_ARG: Readonly<Record<string, number>> = { NN2103: 3, NN2104: 4 };

export interface NoAttrs {
  [key: string]: never;
}

/** Elementwise binary ops: one input and `scalar` when the other operand is a number. */
export interface ElementwiseAttrs {
  scalar?: number;
  /** The number is the left operand (`2 - x`). */
  scalarFirst?: boolean;
}

export interface OpAttrs {
  add: ElementwiseAttrs;
  sub: ElementwiseAttrs;
  mul: ElementwiseAttrs;
  div: ElementwiseAttrs;
  pow: { exponent: number };
  neg: NoAttrs;
  matmul: NoAttrs;
  relu: NoAttrs;
  leaky_relu: { slope: number };
  sigmoid: NoAttrs;
  tanh: NoAttrs;
  gelu: NoAttrs;
  silu: NoAttrs;
  softplus: NoAttrs;
  exp: NoAttrs;
  log: NoAttrs;
  sqrt: NoAttrs;
  abs: NoAttrs;
  softmax: { axis: number };
  log_softmax: { axis: number };
  /** `axis` absent reduces every axis. */
  sum: { axis?: number; keepdims: boolean };
  mean: { axis?: number; keepdims: boolean };
  max: { axis?: number; keepdims: boolean };
  transpose: { dim0: number; dim1: number };
  /** The target shape; one dim may be the constant -1 (inferred). */
  reshape: { shape: Shape };
  flatten: { start: number; end: number };
  concat: { axis: number };
  max_pool2d: { kernel: number; stride: number; padding: number };
  avg_pool2d: { kernel: number; stride: number; padding: number };
  dropout: { p: number };
  detach: NoAttrs;
  /** Inputs: x, weight [out, in], bias [out] (optional). */
  linear: NoAttrs;
  /** Inputs: x [N, C, H, W], weight [out, C, kh, kw], bias [out] (optional). */
  conv2d: { stride: number; padding: number };
  /** Inputs: x [N, C, H, W], then per-channel tensors [C] (weight, bias, running stats). */
  batch_norm2d: NoAttrs;
  /** Inputs: x [N, C] or [N, C, L], then per-channel tensors [C]. */
  batch_norm1d: NoAttrs;
  /** Inputs: x [..., F], weight [F], bias [F]. */
  layer_norm: NoAttrs;
  /** Inputs: ids (int) [...], weight [n, d]. */
  embedding: NoAttrs;
  /** Inputs: logits [B, C], labels [B] (int). The mean loss, a scalar. */
  cross_entropy: NoAttrs;
  mse: NoAttrs;
  bce_with_logits: NoAttrs;
}

export type OpName = keyof OpAttrs;

// ---------------------------------------------------------------------------------------
// The vocabulary of the op registry's shape rules (engine/src/ops/*.ts).

/**
 * An argument of a rule's error: a value, or a reference the reporter resolves: the source
 * text of input `input` (`fc1(h)` names `h`), or a remark on how input `origin` was formed
 * (` (flatten of [B, 64, 12, 12])`, empty when nothing is known).
 */
export type RuleArg = string | number | { readonly input: number } | { readonly origin: number };

export interface RuleError {
  /** A code of engine/src/lang/diagnostics.ts. */
  code: string;
  args: RuleArg[];
}

/**
 * The output shape, or an error. An error may still carry the shape the op would have
 * produced had its input fit, so the checker goes on without a cascade of errors.
 */
export type RuleResult = { shape: Shape } | { error: RuleError; shape?: Shape };

export function ruleError(code: string, args: RuleArg[], shape?: Shape): RuleResult {
  return shape === undefined ? { error: { code, args } } : { error: { code, args }, shape };
}

/** The rule of every op whose output has its first input's shape. */
export const sameShapeRule = (shapes: readonly Shape[]): RuleResult => ({ shape: shapes[0] });

/** NumPy broadcasting of two shapes, the error naming both inputs. */
export function broadcast(a: Shape, b: Shape): RuleResult {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = new Array(rank);
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k];
    const db = b[b.length - rank + k];
    if (da === undefined) out[k] = db;
    else if (db === undefined) out[k] = da;
    else if (da.equals(db)) out[k] = da;
    else if (da.constant() === 1) out[k] = db;
    else if (db.constant() === 1) out[k] = da;
    else return ruleError('NN2101', [formatShape(a), formatShape(b), da.toString(), db.toString()], a.length >= b.length ? a : b);
  }
  return { shape: out };
}

/** The element count of a shape, as a dim. */
export function elementCount(shape: Shape): Dim {
  let total = Dim.of(1);
  for (const d of shape) total = total.mul(d);
  return total;
}

/** Output size of a window op along one axis: floor((size + 2·padding − kernel) / stride) + 1. */
export function windowSize(size: Dim, kernel: Dim, stride: Dim, padding: Dim): Dim {
  return size.add(padding.scale(2)).sub(kernel).floorDiv(stride).add(1);
}

export type ShapeRule<A> = (inputs: readonly Shape[], attrs: A) => ShapeRuleResult;

function fail(code: string, args: (string | number)[], shape?: Shape): ShapeRuleResult {
  return shape === undefined ? { error: { code, args } } : { error: { code, args }, shape };
}

/** NumPy broadcasting of two shapes (right-aligned; a constant 1 stretches). */
export function broadcastShapes(a: Shape, b: Shape): ShapeRuleResult {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k];
    const db = b[b.length - rank + k];
    if (da === undefined) out.push(db);
    else if (db === undefined) out.push(da);
    else if (da.equals(db)) out.push(da);
    else if (da.constant() === 1) out.push(db);
    else if (db.constant() === 1) out.push(da);
    else return fail('NN2101', [formatShape(a), formatShape(b), da.toString(), db.toString()], a.length >= b.length ? a : b);
  }
  return { shape: out };
}

/** An axis in [-rank, rank) normalized to [0, rank), or null when out of range. */
export function normalizeAxis(axis: number, rank: number): number | null {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) return null;
  return axis < 0 ? axis + rank : axis;
}

const same: ShapeRule<unknown> = (inputs) => ({ shape: inputs[0] });

const elementwise: ShapeRule<ElementwiseAttrs> = (inputs) =>
  inputs.length < 2 ? { shape: inputs[0] } : broadcastShapes(inputs[0], inputs[1]);

const alongAxis: ShapeRule<{ axis: number }> = (inputs, attrs) =>
  normalizeAxis(attrs.axis, inputs[0].length) === null ? fail('NN2109', [attrs.axis, formatShape(inputs[0])], inputs[0]) : { shape: inputs[0] };

const reduce: ShapeRule<{ axis?: number; keepdims: boolean }> = ([x], attrs) => {
  if (attrs.axis === undefined) return { shape: attrs.keepdims ? x.map(() => Dim.of(1)) : [] };
  const axis = normalizeAxis(attrs.axis, x.length);
  if (axis === null) return fail('NN2109', [attrs.axis, formatShape(x)]);
  return { shape: attrs.keepdims ? x.map((d, k) => (k === axis ? Dim.of(1) : d)) : x.filter((_, k) => k !== axis) };
};

function product(shape: Shape): Dim {
  return shape.reduce((acc, d) => acc.mul(d), Dim.of(1));
}

/** Output size of a window op along one axis: floor((size + 2p - k) / s) + 1. */
function windowOutput(size: Dim, kernel: number, stride: number, padding: number): Dim {
  return size.add(2 * padding - kernel).floorDiv(stride).add(1);
}

const pool: (op: string) => ShapeRule<{ kernel: number; stride: number; padding: number }> = (op) => ([x], attrs) => {
  if (x.length !== 4 && x.length !== 3) return fail('NN2108', [op, 'a 4-D input [N, C, H, W]', 'input', formatShape(x)]);
  const lead = x.slice(0, x.length - 2);
  const spatial = x.slice(x.length - 2).map((d) => windowOutput(d, attrs.kernel, attrs.stride, attrs.padding));
  const out = [...lead, ...spatial];
  for (let k = 0; k < 2; k++) {
    const size = spatial[k].constant();
    if (size !== null && size < 1) {
      const input = x[x.length - 2 + k].add(2 * attrs.padding).toString();
      return fail('NN2105', [op, attrs.kernel, input, size]);
    }
  }
  return { shape: out };
};

const matmul: ShapeRule<NoAttrs> = ([a, b]) => {
  if (a.length === 0 || b.length === 0) {
    const scalar = a.length === 0 ? a : b;
    return fail('NN2108', ['`@`', 'tensors of rank 1 or more', 'input', formatShape(scalar)]);
  }
  const left = a.length === 1 ? [Dim.of(1), a[0]] : a;
  const right = b.length === 1 ? [b[0], Dim.of(1)] : b;
  const inner = left[left.length - 1];
  const innerRight = right[right.length - 2];
  const batch = broadcastShapes(left.slice(0, -2), right.slice(0, -2));
  const batchShape = 'error' in batch ? (batch.shape ?? []) : batch.shape;
  const rows = a.length === 1 ? [] : [left[left.length - 2]];
  const cols = b.length === 1 ? [] : [right[right.length - 1]];
  const out = [...batchShape, ...rows, ...cols];
  if (!inner.equals(innerRight)) return fail('NN2102', [formatShape(a), formatShape(b), inner.toString(), innerRight.toString()], out);
  if ('error' in batch) return { error: batch.error, shape: out };
  return { shape: out };
};

const reshape: ShapeRule<{ shape: Shape }> = ([x], attrs) => {
  const inferred = attrs.shape.findIndex((d) => d.constant() === -1);
  const total = product(x);
  if (inferred >= 0) {
    const known = product(attrs.shape.filter((_, k) => k !== inferred));
    const missing = total.floorDiv(known);
    const out = attrs.shape.map((d, k) => (k === inferred ? missing : d));
    if (!missing.mul(known).equals(total)) {
      return fail('NN2106', [formatShape(x), total.toString(), formatShape(attrs.shape), `a multiple of ${known}`], out);
    }
    return { shape: out };
  }
  const target = product(attrs.shape);
  if (!target.equals(total)) return fail('NN2106', [formatShape(x), total.toString(), formatShape(attrs.shape), target.toString()], attrs.shape);
  return { shape: attrs.shape };
};

const flatten: ShapeRule<{ start: number; end: number }> = ([x], attrs) => {
  if (x.length === 0) return { shape: [Dim.of(1)] };
  const start = normalizeAxis(attrs.start, x.length);
  const end = normalizeAxis(attrs.end, x.length);
  if (start === null) return fail('NN2109', [attrs.start, formatShape(x)]);
  if (end === null) return fail('NN2109', [attrs.end, formatShape(x)]);
  if (end < start) return { shape: x };
  return { shape: [...x.slice(0, start), product(x.slice(start, end + 1)), ...x.slice(end + 1)] };
};

const concat: ShapeRule<{ axis: number }> = (inputs, attrs) => {
  const first = inputs[0];
  const axis = normalizeAxis(attrs.axis, first.length);
  if (axis === null) return fail('NN2109', [attrs.axis, formatShape(first)]);
  let size = first[axis];
  for (const other of inputs.slice(1)) {
    const fits = other.length === first.length && other.every((d, k) => k === axis || d.equals(first[k]));
    if (!fits) return fail('NN2107', [attrs.axis, formatShape(first), formatShape(other)]);
    size = size.add(other[axis]);
  }
  return { shape: first.map((d, k) => (k === axis ? size : d)) };
};

const linear: ShapeRule<NoAttrs> = ([x, weight]) => {
  const [outFeatures, inFeatures] = weight;
  if (x.length === 0) return fail('NN2108', ['Linear', 'an input of rank 1 or more', 'input', formatShape(x)], [outFeatures]);
  const out = x.slice();
  out[out.length - 1] = outFeatures;
  const last = x[x.length - 1];
  if (!last.equals(inFeatures)) return fail('NN2103', [inFeatures.toString(), 'input', formatShape(x), ''], out);
  return { shape: out };
};

const conv2d: ShapeRule<{ stride: number; padding: number }> = ([x, weight], attrs) => {
  const [outChannels, inChannels, kh, kw] = weight;
  if (x.length !== 4) return fail('NN2108', ['Conv2d', 'a 4-D input [N, C, H, W]', 'input', formatShape(x)]);
  const kernelH = kh.constant() ?? 1;
  const kernelW = kw.constant() ?? 1;
  const height = windowOutput(x[2], kernelH, attrs.stride, attrs.padding);
  const width = windowOutput(x[3], kernelW, attrs.stride, attrs.padding);
  const out = [x[0], outChannels, height, width];
  for (const [size, input, kernel] of [
    [height, x[2], kernelH],
    [width, x[3], kernelW],
  ] as const) {
    const value = size.constant();
    if (value !== null && value < 1) return fail('NN2105', ['Conv2d', kernel, input.add(2 * attrs.padding).toString(), value], out);
  }
  if (!x[1].equals(inChannels)) return fail('NN2104', ['Conv2d', inChannels.toString(), 'input', formatShape(x), ''], out);
  return { shape: out };
};

const batchNorm2d: ShapeRule<NoAttrs> = ([x, weight]) => {
  if (x.length !== 4) return fail('NN2108', ['BatchNorm2d', 'a 4-D input [N, C, H, W]', 'input', formatShape(x)], x);
  if (!x[1].equals(weight[0])) return fail('NN2104', ['BatchNorm2d', weight[0].toString(), 'input', formatShape(x), ''], x);
  return { shape: x };
};

const batchNorm1d: ShapeRule<NoAttrs> = ([x, weight]) => {
  if (x.length !== 2 && x.length !== 3) return fail('NN2108', ['BatchNorm1d', 'a 2-D or 3-D input [N, C] or [N, C, L]', 'input', formatShape(x)], x);
  if (!x[1].equals(weight[0])) return fail('NN2111', ['BatchNorm1d', `${weight[0]} features on axis 1`, 'input', formatShape(x)], x);
  return { shape: x };
};

const layerNorm: ShapeRule<NoAttrs> = ([x, weight]) => {
  if (x.length === 0 || !x[x.length - 1].equals(weight[0])) {
    return fail('NN2111', ['LayerNorm', `${weight[0]} features on the last axis`, 'input', formatShape(x)], x);
  }
  return { shape: x };
};

const embedding: ShapeRule<NoAttrs> = ([ids, weight]) => ({ shape: [...ids, weight[1]] });

const crossEntropy: ShapeRule<NoAttrs> = ([logits, labels]) => {
  if (logits.length !== 2) return fail('NN2108', ['cross_entropy', 'logits of shape [B, C]', 'input', formatShape(logits)], []);
  if (labels.length !== 1 || !labels[0].equals(logits[0])) {
    return fail('NN2111', ['cross_entropy', `labels of shape [${logits[0]}]`, 'labels', formatShape(labels)], []);
  }
  return { shape: [] };
};

const pairLoss: ShapeRule<NoAttrs> = ([prediction, target]) =>
  shapesEqual(prediction, target) ? { shape: [] } : fail('NN2101', [formatShape(prediction), formatShape(target), 'prediction', 'target'], []);

const transpose: ShapeRule<{ dim0: number; dim1: number }> = ([x], attrs) => {
  const a = normalizeAxis(attrs.dim0, x.length);
  const b = normalizeAxis(attrs.dim1, x.length);
  if (a === null) return fail('NN2109', [attrs.dim0, formatShape(x)]);
  if (b === null) return fail('NN2109', [attrs.dim1, formatShape(x)]);
  const out = [...x];
  [out[a], out[b]] = [out[b], out[a]];
  return { shape: out };
};

export const SHAPE_RULES: { readonly [Op in OpName]: ShapeRule<OpAttrs[Op]> } = {
  add: elementwise,
  sub: elementwise,
  mul: elementwise,
  div: elementwise,
  pow: same,
  neg: same,
  matmul,
  relu: same,
  leaky_relu: same,
  sigmoid: same,
  tanh: same,
  gelu: same,
  silu: same,
  softplus: same,
  exp: same,
  log: same,
  sqrt: same,
  abs: same,
  softmax: alongAxis,
  log_softmax: alongAxis,
  sum: reduce,
  mean: reduce,
  max: reduce,
  transpose,
  reshape,
  flatten,
  concat,
  max_pool2d: pool('max_pool2d'),
  avg_pool2d: pool('avg_pool2d'),
  dropout: same,
  detach: same,
  linear,
  conv2d,
  batch_norm2d: batchNorm2d,
  batch_norm1d: batchNorm1d,
  layer_norm: layerNorm,
  embedding,
  cross_entropy: crossEntropy,
  mse: pairLoss,
  bce_with_logits: pairLoss,
};

/** Applies the rule of `op` (typed by op name). */
export function inferShape<Op extends OpName>(op: Op, inputs: readonly Shape[], attrs: OpAttrs[Op]): ShapeRuleResult {
  return (SHAPE_RULES[op] as ShapeRule<OpAttrs[Op]>)(inputs, attrs);
}
