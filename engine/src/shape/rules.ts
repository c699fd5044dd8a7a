// The vocabulary of the shape rules that each op of the registry (engine/src/ops/) defines:
// results with structured errors, broadcasting, axes, element counts and window sizes. The
// checker (over symbolic dims) and both back ends (over constant dims) call the same rules.

import { Dim, formatShape, type Shape } from './dim.js';
import { groupOf, groupSize } from './binding.js';

/**
 * An argument of a rule's error: a value, or a reference the reporter resolves: the source
 * text of input `input` (`fc1(h)` names `h`), or a remark on how input `origin` was formed
 * (` (flatten of [B, 64, 12, 12])`, empty when nothing is known).
 */
export type RuleArg = string | number | { readonly input: number } | { readonly origin: number };

/**
 * The codes of engine/src/lang/diagnostics.ts that shape rules report. They are listed here
 * because shape/ sits below lang/; the checker reports them as catalogue messages, so `tsc`
 * fails on one without an entry there.
 */
export type RuleErrorCode =
  | 'NN2007' | 'NN2101' | 'NN2102' | 'NN2103' | 'NN2104' | 'NN2105' | 'NN2106' | 'NN2107' | 'NN2108' | 'NN2109' | 'NN2111' | 'NN2112'
  | 'NN2130' | 'NN2131' | 'NN2132' | 'NN2141' | 'NN2142' | 'NN2143' | 'NN2144' | 'NN2145' | 'NN2146'
  | 'NN2150' | 'NN2151' | 'NN2152' | 'NN2153' | 'NN2154' | 'NN2162' | `NN2170/${MalformedEquation}` | 'NN2171' | 'NN2172' | 'NN2173' | 'NN2174' | 'NN2175';

/** The ways an einsum equation is malformed (NN2170's cases). */
export type MalformedEquation = 'twoEllipses' | 'strayDot' | 'notLetter' | 'twoArrows' | 'outputRepeats' | 'outputEllipsis' | 'keepEllipsis';

export interface RuleError {
  code: RuleErrorCode;
  args: RuleArg[];
  /** The written item the error is about (a subscript's index), where the checker has its range. */
  item?: number;
  /** The argument of a built-in call the error is about: a tensor input's, or a parameter's by name (`einsum`'s equation). */
  argument?: { readonly input: number } | { readonly param: string };
}

/**
 * The output shape, or an error. An error may still carry the shape the op produces
 * whichever side is the mistake (a Linear's output features), so the checker goes on
 * without a cascade of errors; without one the result is unknown (it fits anything).
 */
export type RuleResult = { shape: Shape } | { error: RuleError; shape?: Shape };

export function ruleError(code: RuleErrorCode, args: RuleArg[], shape?: Shape): RuleResult {
  return shape === undefined ? { error: { code, args } } : { error: { code, args }, shape };
}

/** An error about the argument of parameter `param` (reported at that argument). */
export function argError(param: string, code: RuleErrorCode, args: RuleArg[], shape?: Shape): RuleResult {
  const error = { code, args, argument: { param } };
  return shape === undefined ? { error } : { error, shape };
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
    // Either shape may be the mistake: the result is unknown (no shape), so nothing after it is blamed.
    else return ruleError('NN2101', [formatShape(a), formatShape(b), da.toString(), db.toString()]);
  }
  return { shape: out };
}

/** The element count of a shape, as a dim (a variadic group counts its elements, `|S|`). */
export function elementCount(shape: Shape): Dim {
  let total = Dim.of(1);
  for (const d of shape) {
    const group = groupOf(d);
    total = total.mul(group === null ? d : groupSize(group));
  }
  return total;
}

/** Output size of a window op along one axis: floor((size + 2·padding − kernel) / stride) + 1. */
export function windowSize(size: Dim, kernel: Dim, stride: Dim, padding: Dim): Dim {
  return size.add(padding.scale(2)).sub(kernel).floorDiv(stride).add(1);
}

/** An axis in [-rank, rank) normalized to [0, rank), or null when out of range. */
export function normalizeAxis(axis: number, rank: number): number | null {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) return null;
  return axis < 0 ? axis + rank : axis;
}
