// Quick fixes the checks offer: change a layer's size argument to the input's size, sum a
// hand-written gradient over the axes its input was broadcast along, and change a misspelt
// name, layer, keyword argument, train key or train value to the closest one that exists.

import { Dim, shapesEqual, type Shape } from '../shape/dim.js';
import type { Fix, RelatedInfo, TextEdit, TextRange } from './api.js';
import type { Expr } from './syntax.js';
import type { LayerInstance } from './values.js';

/** Codes whose error at a layer is about the size its constructor argument declares. */
const SIZE_CODES = new Set(['NN2103', 'NN2104', 'NN2111']);

/**
 * For a size error at a layer's application: where the size is declared, and the fix that
 * sets it to the input's (only from a known size: after an error the input's size is unknown).
 */
export function layerSizeFix(layer: LayerInstance, code: string, input: Shape | null, text: string): { related?: RelatedInfo[]; fixes?: Fix[] } {
  const size = layer.def?.inputSize;
  if (!size || !SIZE_CODES.has(code) || input === null) return {};
  const argRange: TextRange | undefined = layer.argRanges[size.arg];
  if (argRange === undefined) return {};
  const declared = text.slice(argRange.start, argRange.end);
  const related = [{ range: argRange, message: `\`${layer.localName}\` is declared with ${size.pytorchName} ${declared} here` }];
  const actual = input[size.axis < 0 ? input.length + size.axis : size.axis]?.constant();
  const fixes: Fix[] = actual !== null && actual !== undefined && actual > 0
    ? [{ title: `Change ${size.pytorchName} to ${actual}`, edits: [{ range: argRange, newText: String(actual) }] }]
    : [];
  return { related, fixes };
}

/** The edit that sums a gradient over the axes its input was broadcast along, when that recovers the input's shape. */
export function gradientSumFix(text: string, expr: Expr, grad: Shape, input: Shape): TextEdit | null {
  if (grad.length < input.length) return null;
  const extra = grad.length - input.length;
  let written = text.slice(expr.range.start, expr.range.end);
  let shape = [...grad];
  for (let k = 0; k < extra; k++) {
    written = `sum(${written}, 0)`;
    shape = shape.slice(1);
  }
  for (let k = 0; k < input.length; k++) {
    if (input[k].constant() === 1 && !shape[k].equals(1)) {
      written = `sum(${written}, ${k}, keepdims = true)`;
      shape[k] = Dim.of(1);
    }
  }
  return shapesEqual(shape, input) ? { range: expr.range, newText: written } : null;
}

/**
 * Edits needed to turn `a` into `b` (insert, delete, substitute, or swap two neighbours: the
 * optimal string alignment distance), case differences counting half.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const x = a[i - 1];
      const y = b[j - 1];
      const cost = x === y ? 0 : x.toLowerCase() === y.toLowerCase() ? 0.5 : 1;
      let best = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && x === b[j - 2] && a[i - 2] === y) best = Math.min(best, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1];
}

/** The candidate closest to a misspelt `name`, if one is close enough (about one edit per three letters). */
export function closestName(name: string, candidates: Iterable<string>): string | null {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name || Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(name, candidate);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The did-you-mean quick fix for a misspelt name at `range` (`Linera` → `Linear`), as diagnostic extras. */
export function didYouMean(range: TextRange, name: string, candidates: Iterable<string>): { fixes?: Fix[] } {
  const closest = closestName(name, candidates);
  return closest === null ? {} : { fixes: [{ title: `Change to \`${closest}\``, edits: [{ range, newText: closest }] }] };
}
