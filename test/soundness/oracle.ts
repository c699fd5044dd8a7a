// The generator's independent model of each op's shape rule, written from docs/language.md
// §5–§6 over the generator's own dims (dims.ts), never from engine/src/shape/rules.ts.

import { add, div, mul, num, product, sub, type D } from './dims.js';

/** An axis in [-rank, rank) as a non-negative index. */
export function axisIndex(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** `Linear(in, out)`: the last dim becomes `out`. */
export function linear(x: readonly D[], out: D): D[] {
  return [...x.slice(0, -1), out];
}

/** One spatial dim of a window op: (size + 2·padding − kernel) / stride + 1, floor division. */
export function window(size: D, kernel: D, stride: D, padding: D): D {
  return add(div(sub(add(size, mul(padding, 2)), kernel), stride), 1);
}

/** `Conv2d(in, out, k, stride, padding)` on [N, in, H, W]. */
export function conv2d(x: readonly D[], out: D, kernel: D, stride: D, padding: D): D[] {
  return [x[0], out, window(x[2], kernel, stride, padding), window(x[3], kernel, stride, padding)];
}

/** `max_pool2d` / `avg_pool2d` on [N, C, H, W]. */
export function pool2d(x: readonly D[], kernel: D, stride: D, padding: D): D[] {
  return [x[0], x[1], window(x[2], kernel, stride, padding), window(x[3], kernel, stride, padding)];
}

/** `sum`/`mean`/`max` over one axis (kept as 1 with keepdims), or every axis (a scalar). */
export function reduce(x: readonly D[], axis: number | null, keepdims: boolean): D[] {
  if (axis === null) return keepdims ? x.map(() => num(1)) : [];
  const at = axisIndex(axis, x.length);
  return keepdims ? x.map((d, k) => (k === at ? num(1) : d)) : x.filter((_, k) => k !== at);
}

export function transpose(x: readonly D[], a: number, b: number): D[] {
  const out = [...x];
  const i = axisIndex(a, x.length);
  const j = axisIndex(b, x.length);
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** `flatten(x, start, end)`: dims start..end merged into their product. */
export function flatten(x: readonly D[], start: number, end: number): D[] {
  const s = axisIndex(start, x.length);
  const e = axisIndex(end, x.length);
  return [...x.slice(0, s), product(x.slice(s, e + 1)), ...x.slice(e + 1)];
}

/** `concat` along `axis`: sizes add there, the other dims are the first input's. */
export function concat(xs: readonly (readonly D[])[], axis: number): D[] {
  const at = axisIndex(axis, xs[0].length);
  return xs[0].map((d, k) => (k === at ? xs.slice(1).reduce((acc, x) => add(acc, x[at]), d) : d));
}

/** `a @ b` for operands of rank 2 or more whose leading dims are equal or absent on `b`. */
export function matmul(a: readonly D[], b: readonly D[]): D[] {
  const lead = a.length >= b.length ? a.slice(0, -2) : b.slice(0, -2);
  return [...lead, a[a.length - 2], b[b.length - 1]];
}

/** `Embedding(n, d)` on int ids of any shape. */
export function embedding(ids: readonly D[], dim: D): D[] {
  return [...ids, dim];
}

/** `unsqueeze(x, dim)`: a 1 inserted so that it is axis `dim` of the result. */
export function unsqueeze(x: readonly D[], dim: number): D[] {
  const at = axisIndex(dim, x.length + 1);
  return [...x.slice(0, at), num(1), ...x.slice(at)];
}

/** `squeeze(x, dim)` of an axis of size 1: the axis gone. */
export function squeeze(x: readonly D[], dim: number): D[] {
  const at = axisIndex(dim, x.length);
  return x.filter((_, k) => k !== at);
}

/** `permute(x, dims)`: axis k of the result is axis dims[k] of x. */
export function permute(x: readonly D[], dims: readonly number[]): D[] {
  return dims.map((d) => x[axisIndex(d, x.length)]);
}

/** `stack` of `count` tensors of shape x: a new axis of size count at `dim`. */
export function stack(x: readonly D[], count: number, dim: number): D[] {
  const at = axisIndex(dim, x.length + 1);
  return [...x.slice(0, at), num(count), ...x.slice(at)];
}

/** `expand(x, sizes)` without new leading axes: -1 keeps x's dim, any other size replaces it. */
export function expand(x: readonly D[], sizes: readonly (number | -1)[]): D[] {
  return x.map((d, k) => (sizes[k] === -1 ? d : num(sizes[k])));
}

/** `repeat(x, counts)` with one count per axis: each dim times its count. */
export function repeat(x: readonly D[], counts: readonly number[]): D[] {
  return x.map((d, k) => (counts[k] === 1 ? d : mul(d, counts[k])));
}
