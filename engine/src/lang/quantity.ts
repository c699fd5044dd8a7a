// Counts and sizes as people read them: `23.98 M·B` (symbolic in the batch dim) or
// `1.53 G` at a batch size, `0.10` MB; the one formatting `nn summary` and the hovers share.

import { Dim } from '../shape/dim.js';

const PREFIXES: readonly [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** A magnitude with an SI prefix and two decimals from a thousand up: `23.98 M`, `640`. */
export function formatMagnitude(value: number): string {
  for (const [scale, prefix] of PREFIXES) if (value >= scale) return `${(value / scale).toFixed(2)} ${prefix}`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** A count that may be symbolic: `23.98 M·B`, `1.53 G`, `3.21 K·B + 640`. */
export function formatQuantity(count: Dim | number): string {
  return Dim.from(count).formatWith(formatMagnitude, '·');
}

/** The count with the batch dim bound: `B = 64` turns `23.98 M·B` into `1.53 G`. */
export function atBatch(count: Dim, batchDim: string, batch: number): Dim {
  return count.substitute(new Map([[batchDim, Dim.of(batch)]]));
}

/** Bytes in megabytes (10^6, as torchinfo counts them) with two decimals. */
export function formatMegabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(2);
}
