// The TS engine's side of the shape rules: each kernel asks its op's own rule (the one the
// checker calls) for its output shape over constant dims, so the engine and the checker
// cannot disagree. A rule's error becomes a thrown ShapeError naming the op, with the
// catalogue's message; sizes and shapes of attributes become numbers here.

import { Dim, concreteShape, type Shape } from '../shape/dim.js';
import { normalizeAxis, type RuleArg } from '../shape/rules.js';
import type { OpDef, Param } from './def.js';
import { formatMessage } from '../lang/diagnostics.js';
import { formatDims } from '../tensor/shape.js';

export class ShapeError extends RangeError {
  constructor(readonly op: string, readonly code: string, message: string) {
    super(`${op}: ${message} (${code})`);
  }
}

export function constantShape(dims: readonly number[]): Shape {
  return dims.map((d) => Dim.of(d));
}

/** A possibly negative axis resolved against a rank; call it after the op's rule accepted the axis. */
export function resolveAxis(axis: number, rank: number): number {
  const resolved = normalizeAxis(axis, rank);
  if (resolved === null) throw new RangeError(`axis ${axis} is out of range for rank ${rank}`);
  return resolved;
}

/** A rule error's arguments with input references resolved to the op's parameter names. */
export function engineArgs(def: { params: readonly Param[] }, args: readonly RuleArg[]): (string | number)[] {
  const tensorNames = def.params.filter((p) => p.kind === 'tensor' || p.kind === 'tensors').map((p) => p.name);
  return args.map((arg) => {
    if (typeof arg !== 'object') return arg;
    if ('origin' in arg) return '';
    return tensorNames[arg.input] ?? tensorNames[tensorNames.length - 1] ?? 'input';
  });
}

/**
 * The concrete output shape of `def` applied to inputs of these shapes, by the op's own
 * shape rule (the one the checker calls); a rule error is thrown as a ShapeError naming the op.
 */
export function outputShape<A>(def: OpDef<A>, inputs: readonly (readonly number[])[], attrs: A, dtypes: readonly ('float32' | 'int64')[] = []): number[] {
  const result = def.shape(inputs.map(constantShape), attrs, dtypes);
  if ('error' in result) throw new ShapeError(def.name, result.error.code, formatMessage(result.error.code, engineArgs(def, result.error.args)));
  const shape = concreteShape(result.shape);
  if (!shape) throw new ShapeError(def.name, 'internal', `the shape rule returned a symbolic shape for ${inputs.map(formatDims).join(', ')}`);
  return shape;
}

/**
 * The value of a size attribute in a lowered graph. Sizes are symbolic only in a block's own
 * check (its hyper-parameters), and such a graph is never lowered.
 */
export function sizeOf(d: Dim): number {
  const value = d.constant();
  if (value === null) throw new RangeError(`a size is still symbolic (${d.toString()}) in a lowered graph`);
  return value;
}

/**
 * An op's attributes with their sizes and shapes in the caller's dims (a `fn` body's own
 * names replaced by the dims of one call); the other attributes are returned unchanged.
 */
export function resolveAttrs<A>(attrs: A, resolve: (shape: Shape) => Shape): A {
  let out: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(attrs as Record<string, unknown>)) {
    let resolved: unknown = value;
    if (value instanceof Dim && !value.isConstant()) resolved = resolve([value])[0];
    else if (Array.isArray(value) && value.some((d) => d instanceof Dim && !d.isConstant())) resolved = resolve(value as Shape);
    if (resolved !== value) (out ??= { ...(attrs as Record<string, unknown>) })[key] = resolved;
  }
  return (out ?? attrs) as A;
}
