// Composite ops: an op written once, over a Builder, from other registry ops (attention from
// matmul, softmax and narrow; the recurrent layers from linear, sigmoid and tanh). The TS
// engine runs the build on tensors (its tape records the parts) and the ONNX path on values
// (an inner tape, onnx/compose.ts), so a composite needs no gradient rule of its own and
// both back ends run the same formula.

import { Tensor } from '../tensor/tensor.js';
import { concreteShape, type Dim, type Shape } from '../shape/dim.js';
import { formatMessage } from '../lang/diagnostics.js';
import { onnxBuilder, composite, compositeBackward } from '../onnx/compose.js';
import { opDef } from './registry.js';
import type { OnnxRules, TsContext, TsKernel } from './def.js';
import { constantShape, engineArgs, ShapeError, sizeOf } from './shape-rule.js';

/** What a composite's build may do with its values (tensors on the TS engine, ONNX values). */
export interface Builder<T> {
  shape(value: T): Shape;
  /** Registry op `op` on `inputs`; its shape rule gives the result's shape. */
  apply(op: string, inputs: T[], attrs: object): T;
  /** An additive mask [rows, cols] shaped for `scores`' last two axes: 0 on and below the diagonal, −∞ above. */
  causalBias(scores: T): T;
  /** A dim the build needs as a number (a recurrent layer's sequence length); `what` names it where it cannot be one. */
  constant(d: Dim, what: string): number;
  /** A constant [rows, cols] matrix, row-major (resampling weights), of `like`'s float type. */
  matrix(rows: number, cols: number, values: readonly number[], like: T): T;
}

export type CompositeBuild<A> = <T>(b: Builder<T>, inputs: T[], attrs: A) => T;

/** The TS kernel and ONNX rules of a composite. */
export function compositeRules<A>(build: CompositeBuild<A>): { ts: TsKernel<A>; onnx: OnnxRules<A> } {
  return {
    ts: (inputs, attrs, ctx) => build(tsBuilder(ctx), inputs, attrs),
    onnx: {
      forward: (ctx, inputs, attrs) => composite(ctx, () => build(onnxBuilder(ctx), inputs, attrs)),
      backward: (ctx, entry, g, needs) => compositeBackward(ctx, entry, g, needs),
    },
  };
}

/** The lower-triangle bias of `rows` × `cols`: 0 where col ≤ row, −∞ above. */
export function causalBiasValues(rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, i) => (i % cols <= Math.floor(i / cols) ? 0 : -Infinity));
}

function tsBuilder(ctx: TsContext): Builder<Tensor> {
  return {
    shape: (t) => constantShape(t.shape),
    apply: (op, inputs, attrs) => {
      const def = opDef(op);
      if (!def) throw new RangeError(`a composite uses the unknown op \`${op}\``);
      const result = def.shape(inputs.map((t) => constantShape(t.shape)), attrs as never, inputs.map((t) => (t.dtype === 'int64' ? 'int64' : 'float32')));
      if ('error' in result) throw new ShapeError(op, result.error.code, formatMessage(result.error.code, engineArgs(def, result.error.args)));
      return def.ts(inputs, attrs as never, { ...ctx, outShape: result.shape, concrete: (shape) => concreteShape(shape) ?? ctx.concrete(shape) });
    },
    constant: (d) => sizeOf(d),
    matrix: (rows, cols, values, like) =>
      like.dtype === 'float64' ? new Tensor(Float64Array.from(values), [rows, cols], 'float64') : new Tensor(Float32Array.from(values), [rows, cols], 'float32'),
    causalBias: (scores) => {
      const [rows, cols] = scores.shape.slice(-2);
      const dtype = scores.dtype === 'float64' ? 'float64' : 'float32';
      const values = causalBiasValues(rows, cols);
      return new Tensor(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), [rows, cols], dtype);
    },
  };
}

