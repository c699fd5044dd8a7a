// Quick fixes the shape checks offer: change a layer's size argument to the input's size,
// and sum a hand-written gradient over the axes its input was broadcast along.

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
