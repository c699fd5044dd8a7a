// The engine's entry to the shared shape rules (engine/src/shape/rules.ts): every op asks
// here for its output shape by the IR op name, with constant dims, so the engine and the
// checker cannot disagree. A rule's error becomes a thrown ShapeError naming the op, with
// the catalogue's message.

import { Dim, concreteShape, type Shape } from '../shape/dim.js';
import { SHAPE_RULES, normalizeAxis, type OpAttrs, type OpName, type RuleArg, type ShapeRule } from '../shape/rules.js';
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

/** The output shape of `op` applied to inputs of these concrete shapes. */
export function inferShape<Op extends OpName>(op: Op, inputs: readonly (readonly number[])[], attrs: OpAttrs[Op]): number[] {
  const rule = SHAPE_RULES[op] as ShapeRule<OpAttrs[Op]>;
  const result = rule(inputs.map(constantShape), attrs);
  if ('error' in result) throw new ShapeError(op, result.error.code, formatMessage(result.error.code, result.error.args));
  const shape = concreteShape(result.shape);
  if (!shape) throw new ShapeError(op, 'internal', `the shape rule returned a symbolic shape for ${inputs.map(formatDims).join(', ')}`);
  return shape;
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
