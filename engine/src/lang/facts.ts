// Editor facts the checker records as it goes: each built-in, fn or operator call with its
// shapes as dims, formatted only when the editor reads them (most checks publish diagnostics only).

import { formatShape, type Shape } from '../shape/dim.js';
import type { CallInfo, TextRange } from './api.js';
import type { Internal } from '../ops/def.js';
import { opInternals } from './costs.js';

const formattedShapes = new WeakMap<Shape, string>();

/**
 * formatShape, remembered per shape array: the checker never mutates a shape once a value
 * has it, and one value's shape is shown for its binding and for every call it feeds.
 */
export function formatShapeOnce(shape: Shape): string {
  let text = formattedShapes.get(shape);
  if (text === undefined) {
    text = formatShape(shape);
    formattedShapes.set(shape, text);
  }
  return text;
}

/** A call for the editor, its shapes formatted on first read. */
export class LazyCallInfo implements CallInfo {
  private formattedInputs: string[] | null = null;

  constructor(
    readonly model: string,
    readonly callee: string,
    readonly range: TextRange,
    readonly calleeRange: TextRange,
    readonly inputs: readonly (Shape | null)[],
    readonly output: Shape | null,
    private readonly attrs: object,
  ) {}

  get internals(): Internal[] {
    return opInternals(this.callee, this.inputs, this.output, this.attrs);
  }

  /** Made once, so readers share the array. */
  get inShapes(): string[] {
    return (this.formattedInputs ??= this.inputs.map((s) => (s ? formatShapeOnce(s) : '?')));
  }

  get outShape(): string {
    return this.output ? formatShapeOnce(this.output) : '?';
  }

  toJSON(): Omit<CallInfo, 'inputs' | 'output' | 'internals'> {
    const { model, callee, range, calleeRange, inShapes, outShape } = this;
    return { model, callee, range, calleeRange, inShapes, outShape };
  }
}
