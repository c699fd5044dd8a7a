// Small text helpers shared by hovers and hints: shapes (from the checker's dims) and
// statistics numbers.

import { formatShape, type Dim, type Shape } from '../../../engine/src/shape/dim.js';

/** A shape for people: `[B, 64, 12, 12]`, `?` when an error left it unknown. */
export function shapeText(shape: Shape | null): string {
  return shape ? formatShape(shape) : '?';
}

export function formatDims(dims: readonly (string | number)[]): string {
  return `[${dims.join(', ')}]`;
}

/** `Σ_B ` or `Σ_{B,T} ` over the given dims (nothing for none). */
export function sumOver(dims: readonly Dim[]): string {
  if (dims.length === 0) return '';
  const names = dims.map((d) => d.toString());
  return names.length === 1 ? `Σ_${names[0]} ` : `Σ_{${names.join(',')}} `;
}

/** A statistic in three significant digits, exponent form when small or large. */
export function formatStat(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude < 1e-2 || magnitude >= 1e4 ? value.toExponential(1) : value.toPrecision(3).replace(/\.?0+$/, '');
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.01 ? 1 : 0)}%`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const sparks = '▁▂▃▄▅▆▇█';

/** A sparkline of a series on a log scale (gradient norms span decades). */
export function sparkline(series: readonly number[]): string {
  const logs = series.map((v) => Math.log10(Math.max(v, 1e-30)));
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  return logs.map((l) => sparks[hi - lo < 1e-9 ? 3 : Math.round(((l - lo) / (hi - lo)) * (sparks.length - 1))]).join('');
}
