// The engine's entry to shape rules: every op asks here for its output shape, by the IR op
// name the checker uses, with constant dims. A bad shape throws an error naming the op.
// TODO(shape-rule): each local rule below moves to the shared engine/src/shape/rules.ts.

import { formatDims, normalizeAxis, shapeSize } from '../tensor/shape.js';

export type Attrs = Record<string, number | boolean | number[]>;
type LocalRule = (inputs: readonly (readonly number[])[], attrs: Attrs) => number[];

export class ShapeError extends RangeError {
  constructor(readonly op: string, message: string) {
    super(`${op}: ${message}`);
  }
}

function fail(op: string, message: string): never {
  throw new ShapeError(op, message);
}

function broadcast(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(op, `shapes ${formatDims(a)} and ${formatDims(b)} cannot be broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

const same: LocalRule = ([x]) => [...x];
const elementwise = (op: string): LocalRule => ([a, b]) => broadcast(op, a, b);

function reduce(op: string): LocalRule {
  return ([x], attrs) => {
    if (attrs.axis === undefined) return attrs.keepdims ? x.map(() => 1) : [];
    const axis = normalizeAxis(attrs.axis as number, x.length, op);
    return attrs.keepdims ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis);
  };
}

function windowOut(op: string, size: number, kernel: number, stride: number, padding: number): number {
  const out = Math.floor((size + 2 * padding - kernel) / stride) + 1;
  if (out < 1) fail(op, `window ${kernel} is larger than the padded input ${size + 2 * padding}`);
  return out;
}

function pool(op: string): LocalRule {
  return ([x], attrs) => {
    if (x.length !== 4) fail(op, `expects a 4-D input [N, C, H, W], got ${formatDims(x)}`);
    const k = attrs.kernel as number;
    const stride = (attrs.stride as number | undefined) ?? k;
    return [x[0], x[1], windowOut(op, x[2], k, stride, 0), windowOut(op, x[3], k, stride, 0)];
  };
}

function matmulShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  if (a.length < 2 || b.length < 2) fail(op, `expects operands of rank 2 or more, got ${formatDims(a)} and ${formatDims(b)}`);
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) fail(op, `inner dimensions differ: ${formatDims(a)} @ ${formatDims(b)}`);
  return [...broadcast(op, a.slice(0, -2), b.slice(0, -2)), m, n];
}

const localRules: Record<string, LocalRule> = {
  add: elementwise('add'),
  sub: elementwise('sub'),
  mul: elementwise('mul'),
  div: elementwise('div'),
  pow: same,
  neg: same,
  relu: same, leaky_relu: same, sigmoid: same, tanh: same, gelu: same, silu: same, softplus: same,
  exp: same, log: same, sqrt: same, abs: same, dropout: same, detach: same,
  softmax: ([x], attrs) => (normalizeAxis((attrs.axis as number | undefined) ?? -1, x.length, 'softmax'), [...x]),
  log_softmax: ([x], attrs) => (normalizeAxis((attrs.axis as number | undefined) ?? -1, x.length, 'log_softmax'), [...x]),
  sum: reduce('sum'),
  mean: reduce('mean'),
  max: reduce('max'),
  matmul: ([a, b]) => matmulShape('matmul', a, b),
  transpose: ([x], attrs) => {
    const a = normalizeAxis(attrs.a as number, x.length, 'transpose');
    const b = normalizeAxis(attrs.b as number, x.length, 'transpose');
    const out = [...x];
    [out[a], out[b]] = [out[b], out[a]];
    return out;
  },
  reshape: ([x], attrs) => {
    const dims = attrs.shape as number[];
    const free = dims.filter((d) => d === -1).length;
    if (free > 1) fail('reshape', `only one dim may be -1, got ${formatDims(dims)}`);
    const known = shapeSize(dims.filter((d) => d !== -1));
    const total = shapeSize(x);
    const out = dims.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
    if (shapeSize(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0)) {
      fail('reshape', `cannot reshape ${formatDims(x)} (${total} elements) to ${formatDims(dims)}`);
    }
    return out;
  },
  flatten: ([x], attrs) => {
    const start = normalizeAxis((attrs.start as number | undefined) ?? 1, x.length, 'flatten');
    return [...x.slice(0, start), shapeSize(x.slice(start))];
  },
  concat: (inputs, attrs) => {
    const first = inputs[0];
    const axis = normalizeAxis(attrs.axis as number, first.length, 'concat');
    let total = 0;
    for (const x of inputs) {
      if (x.length !== first.length || x.some((d, i) => i !== axis && d !== first[i])) {
        fail('concat', `inputs ${formatDims(first)} and ${formatDims(x)} differ outside axis ${axis}`);
      }
      total += x[axis];
    }
    return first.map((d, i) => (i === axis ? total : d));
  },
  max_pool2d: pool('max_pool2d'),
  avg_pool2d: pool('avg_pool2d'),
  linear: ([x, w, b]) => {
    if (w.length !== 2) fail('linear', `weight must be 2-D [out, in], got ${formatDims(w)}`);
    if (x.length < 1 || x[x.length - 1] !== w[1]) fail('linear', `expects input features ${w[1]}, got input ${formatDims(x)}`);
    if (b && (b.length !== 1 || b[0] !== w[0])) fail('linear', `bias must be [${w[0]}], got ${formatDims(b)}`);
    return [...x.slice(0, -1), w[0]];
  },
  conv2d: ([x, w, b], attrs) => {
    if (x.length !== 4) fail('conv2d', `expects a 4-D input [N, C, H, W], got ${formatDims(x)}`);
    if (w.length !== 4) fail('conv2d', `weight must be 4-D [out, in, kH, kW], got ${formatDims(w)}`);
    if (x[1] !== w[1]) fail('conv2d', `expects ${w[1]} input channels, got input ${formatDims(x)}`);
    if (b && (b.length !== 1 || b[0] !== w[0])) fail('conv2d', `bias must be [${w[0]}], got ${formatDims(b)}`);
    const stride = (attrs.stride as number | undefined) ?? 1;
    const padding = (attrs.padding as number | undefined) ?? 0;
    return [x[0], w[0], windowOut('conv2d', x[2], w[2], stride, padding), windowOut('conv2d', x[3], w[3], stride, padding)];
  },
  batch_norm2d: ([x, w], attrs) => {
    if (x.length !== 4) fail('batch_norm2d', `expects a 4-D input [N, C, H, W], got ${formatDims(x)}`);
    const features = w ? w[0] : (attrs.features as number);
    if (x[1] !== features) fail('batch_norm2d', `expects ${features} channels, got input ${formatDims(x)}`);
    return [...x];
  },
  batch_norm1d: ([x, w], attrs) => {
    if (x.length !== 2 && x.length !== 3) fail('batch_norm1d', `expects a 2-D or 3-D input [N, C(, L)], got ${formatDims(x)}`);
    const features = w ? w[0] : (attrs.features as number);
    if (x[1] !== features) fail('batch_norm1d', `expects ${features} features, got input ${formatDims(x)}`);
    return [...x];
  },
  layer_norm: ([x, w]) => {
    if (x.length < 1 || x[x.length - 1] !== w[0]) fail('layer_norm', `expects last dim ${w[0]}, got input ${formatDims(x)}`);
    return [...x];
  },
  embedding: ([ids, w]) => {
    if (w.length !== 2) fail('embedding', `weight must be 2-D [num, dim], got ${formatDims(w)}`);
    return [...ids, w[1]];
  },
  cross_entropy: ([logits, labels]) => {
    if (logits.length !== 2) fail('cross_entropy', `expects logits [B, C], got ${formatDims(logits)}`);
    if (labels.length !== 1 || labels[0] !== logits[0]) fail('cross_entropy', `expects labels [${logits[0]}], got ${formatDims(labels)}`);
    return [];
  },
  mse: ([a, b]) => (broadcast('mse', a, b), []),
  bce_with_logits: ([a, b]) => (broadcast('bce_with_logits', a, b), []),
};

/** The output shape of `op` applied to inputs of these shapes. */
export function inferShape(op: string, inputs: readonly (readonly number[])[], attrs: Attrs = {}): number[] {
  const rule = localRules[op];
  if (!rule) throw new Error(`no shape rule for op ${op}`);
  return rule(inputs, attrs);
}
