// The state shared by the forward, backward and optimizer lowerings: every ONNX value with
// its symbolic shape, which values need a gradient, the tape of lowered ops, and helpers
// for shapes that depend on the batch size.

import { Dim, type Shape } from '../shape/dim.js';
import type { FnIR, TextRange } from '../lang/api.js';
import { OnnxGraphBuilder, type Attr, type OnnxDim } from './builder.js';
import { OnnxUnsupported } from './unsupported.js';

export type DType = 'float32' | 'int64';

/** An ONNX value with the shape the checker gave it (symbolic in the batch dim). */
export interface Val {
  name: string;
  shape: Shape;
  dtype: DType;
}

/** One lowered op, kept for the backward pass. */
export interface TapeEntry<A = object> {
  op: string;
  inputs: Val[];
  outputs: Val[];
  attrs: A;
  /** Intermediate forward values a gradient rule reuses (batch norm's `xhat`, pool indices). */
  saved: Record<string, Val>;
  /** A composite op's own tape: the registry ops its forward was built from (onnx/compose.ts). */
  inner?: TapeEntry[];
  range?: TextRange;
}

/** An op the lowering reached that does not hold together: a bug, never a user's mistake. */
export class LoweringBug extends Error {}

/** The back end's own passes, which a composite applies to the registry ops it is built from (onnx/compose.ts). */
export interface LoweringPasses {
  lowerOp(ctx: LoweringContext, op: string, inputs: Val[], attrs: object, outs: { shape: Shape; dtype: DType }[]): { outputs: Val[] };
  backpropagate(ctx: LoweringContext, tape: readonly TapeEntry[], seeds: ReadonlyMap<string, Val>): Map<string, Val>;
}

export interface LoweringMode {
  /** Batch norm uses batch statistics and updates its running statistics. */
  training: boolean;
  /** Dropout is applied (off for parity runs and always off in eval). */
  dropout: boolean;
}

/** A dropout mask the graph reads as an input: the trainer fills it for each step (ops/dropout.ts). */
export interface MaskSlot {
  name: string;
  shape: Shape;
  p: number;
}

export class LoweringContext {
  readonly requiresGrad = new Set<string>();
  /** The dropout masks the lowered ops read, in the order the TS engine draws them. */
  readonly masks: MaskSlot[] = [];
  readonly tape: TapeEntry[] = [];
  /** New values of buffers (running statistics), by the name of the buffer value the op read. */
  readonly bufferUpdates = new Map<string, Val>();

  constructor(
    readonly b: OnnxGraphBuilder,
    readonly mode: LoweringMode,
    readonly fns: ReadonlyMap<string, FnIR>,
    readonly passes: LoweringPasses,
  ) {}

  /** A float value's gradient is needed when it depends on a parameter. */
  needsGrad(v: Val): boolean {
    return this.requiresGrad.has(v.name);
  }

  /** Appends one single-output node whose output has the given shape. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr>, shape: Shape, dtype: DType = 'float32'): Val {
    return { name: this.b.op1(opType, inputs, attrs), shape, dtype };
  }

  scalar(x: number): string {
    return this.b.constFloat(x);
  }

  /** Elementwise binary op with the shape of `like` (the caller knows the broadcast result). */
  binary(opType: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow', a: Val | string, b: Val | string, like: Val): Val {
    const an = typeof a === 'string' ? a : a.name;
    const bn = typeof b === 'string' ? b : b.name;
    return this.op(opType, [an, bn], {}, like.shape);
  }

  unary(opType: string, x: Val, attrs: Record<string, Attr> = {}): Val {
    return this.op(opType, [x.name], attrs, x.shape);
  }

  /** A new graph input for a dropout mask of `shape` (drop probability p). */
  dropoutMask(shape: Shape, p: number): Val {
    const name = this.b.addFreshInput('dropout_mask', 'float32', this.onnxDims(shape));
    this.masks.push({ name, shape, p });
    return { name, shape, dtype: 'float32' };
  }

  /** The error for a construct this lowering cannot express (`auto` then trains on the TS engine). */
  unsupported(construct: string): OnnxUnsupported {
    return new OnnxUnsupported(construct);
  }

  /** A shape's dims as numbers; a symbolic one cannot be lowered where `what` needs constants. */
  constantDims(shape: Shape, what: string): number[] {
    return shape.map((d) => {
      const n = d.constant();
      if (n === null) throw this.unsupported(`${what} with a symbolic dim (${d.toString()})`);
      return n;
    });
  }

  /** The float32 scalar 0. */
  zero(): string {
    return this.scalar(0);
  }

  /** `ifTrue` where `condition` holds, else `ifFalse` (a value or a scalar constant's name), shaped like `ifTrue`. */
  where(condition: string, ifTrue: Val, ifFalse: Val | string): Val {
    const other = typeof ifFalse === 'string' ? ifFalse : ifFalse.name;
    return this.op('Where', [condition, ifTrue.name, other], {}, ifTrue.shape);
  }

  /** `g` where `x > 0`, else 0: the gradient through a rectifier. */
  passWherePositive(x: Val | string, g: Val): Val {
    return this.where(this.b.op1('Greater', [typeof x === 'string' ? x : x.name, this.zero()]), g, this.zero());
  }

  /** ONNX dims for a value info: constants as numbers, symbolic dims by their text. */
  onnxDims(shape: Shape): OnnxDim[] {
    return shape.map((d) => d.constant() ?? d.toString());
  }

  /**
   * A 1-D int64 tensor holding `shape`: a constant when at most one dim is symbolic (that
   * one becomes -1), else assembled from the runtime shapes of `like` values.
   */
  shapeTensor(shape: Shape, like: readonly Val[]): string {
    const symbolic = shape.filter((d) => d.constant() === null);
    if (symbolic.length <= 1) return this.b.constInt(shape.map((d) => d.constant() ?? -1));
    const pieces = shape.map((d) => {
      const n = d.constant();
      if (n !== null) return this.b.constInt([n]);
      for (const v of like) {
        const axis = v.shape.findIndex((vd) => vd.equals(d));
        if (axis >= 0) return this.b.op1('Shape', [v.name], { start: axis, end: axis + 1 });
      }
      throw new OnnxUnsupported(`a shape with several symbolic dims (${d.toString()})`);
    });
    return this.b.op1('Concat', pieces, { axis: 0 });
  }

  reshape(x: Val, shape: Shape, like: readonly Val[] = [x]): Val {
    return this.op('Reshape', [x.name, this.shapeTensor(shape, like)], {}, shape);
  }

  /** Sum over `axes` (non-negative); ReduceSum takes its axes as an input since opset 13. */
  sum(x: Val, axes: number[], keepdims: boolean): Val {
    const shape = reducedShape(x.shape, axes, keepdims);
    return this.op('ReduceSum', [x.name, this.b.constInt(axes)], { keepdims: keepdims ? 1 : 0 }, shape);
  }

  /** ReduceMean, ReduceMax and ReduceMin take their axes as an attribute in opset 17. */
  reduce(opType: 'ReduceMean' | 'ReduceMax' | 'ReduceMin', x: Val, axes: number[], keepdims: boolean): Val {
    return this.op(opType, [x.name], { axes, keepdims: keepdims ? 1 : 0 }, reducedShape(x.shape, axes, keepdims));
  }

  /** The gradient `g` (of a broadcast result) summed back to `target`'s shape (NumPy rules). */
  reduceToShape(g: Val, target: Shape): Val {
    const lead = g.shape.length - target.length;
    const axes: number[] = [];
    for (let i = 0; i < g.shape.length; i++) {
      if (i < lead) axes.push(i);
      else if (target[i - lead].equals(1) && !g.shape[i].equals(1)) axes.push(i);
    }
    if (axes.length === 0) return g;
    const summed = this.sum(g, axes, true);
    return lead > 0 ? this.reshape(summed, target, [g]) : { ...summed, shape: target };
  }

  /** The number of elements over `axes` of `x`, as a float32 scalar (batch-dependent). */
  count(x: Val, axes: number[]): string {
    let constant = 1;
    let symbolic = false;
    for (const a of axes) {
      const n = x.shape[a].constant();
      if (n === null) symbolic = true;
      else constant *= n;
    }
    if (!symbolic) return this.scalar(constant);
    const dims = this.b.op1('Gather', [this.b.op1('Shape', [x.name]), this.b.constInt(axes)], { axis: 0 });
    const product = this.b.op1('ReduceProd', [dims], { keepdims: 0 });
    return this.b.op1('Cast', [product], { to: 1 });
  }

  /** `g` broadcast back to `x`'s shape after a reduction over `axes` without keepdims. */
  expandBack(g: Val, x: Val, axes: number[], keepdims: boolean): Val {
    const kept = keepdims ? g : this.op('Unsqueeze', [g.name, this.b.constInt(axes)], {}, reducedShape(x.shape, axes, true));
    return this.op('Expand', [kept.name, this.b.op1('Shape', [x.name])], {}, x.shape);
  }
}

/** `shape` after reducing `axes`. */
export function reducedShape(shape: Shape, axes: number[], keepdims: boolean): Shape {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(Dim.of(1));
  });
  return out;
}

/** Normalizes a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
