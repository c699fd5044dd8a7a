// Composite ops on the ONNX path (ops/compose.ts): the registry ops a composite's build
// applies are lowered through their own emitters onto the composite's inner tape, and its
// gradient runs that tape backwards.

import { opDef } from '../ops/registry.js';
import { outputDtypeOf, type OnnxForwardResult } from '../ops/def.js';
import type { Builder } from '../ops/compose.js';
import { causalBiasValues } from '../ops/compose.js';
import { LoweringBug, type LoweringContext, type TapeEntry, type Val } from './context.js';
import { Dim } from '../shape/dim.js';

/** Applies registry op `op` to `inputs`: its shape rule gives the output's shape. */
function emit(ctx: LoweringContext, op: string, inputs: Val[], attrs: object): Val {
  const def = opDef(op);
  if (!def) throw new LoweringBug(`a composite uses the unknown op \`${op}\``);
  const rule = def.shape(inputs.map((v) => v.shape), attrs as never, inputs.map((v) => v.dtype));
  if ('error' in rule) throw new LoweringBug(`${op} inside a composite: its shape rule refuses the inputs (${rule.error.code})`);
  const dtype = outputDtypeOf(def, inputs.map((v) => v.dtype));
  return ctx.passes.lowerOp(ctx, op, inputs, attrs, [{ shape: rule.shape, dtype }]).outputs[0];
}

/** The causal bias for `scores`' last two axes; built at run time when a length is symbolic. */
function causalBias(ctx: LoweringContext, scores: Val): Val {
  const shape = scores.shape.slice(-2);
  const [rows, cols] = shape.map((d) => d.constant());
  if (rows !== null && cols !== null) return { name: ctx.b.constFloat(causalBiasValues(rows, cols), [rows, cols]), shape, dtype: 'float32' };
  const ones = ctx.b.op1('Expand', [ctx.scalar(1), ctx.shapeTensor(shape, [scores])]);
  const lower = ctx.b.op1('Trilu', [ones], { upper: 0 });
  return ctx.op('Where', [ctx.b.op1('Less', [lower, ctx.scalar(0.5)]), ctx.scalar(-Infinity), ctx.zero()], {}, shape);
}

export function onnxBuilder(ctx: LoweringContext): Builder<Val> {
  return {
    shape: (v) => v.shape,
    apply: (op, inputs, attrs) => emit(ctx, op, inputs, attrs),
    causalBias: (scores) => causalBias(ctx, scores),
    constant: (d, what) => ctx.constantDims([d], what)[0],
    matrix: (rows, cols, values) => ({ name: ctx.b.constFloat(values, [rows, cols]), shape: [Dim.of(rows), Dim.of(cols)], dtype: 'float32' }),
  };
}

/** A composite's forward: the ops `build` emits go on the composite's own tape. */
export function composite(ctx: LoweringContext, build: () => Val): OnnxForwardResult {
  const start = ctx.tape.length;
  const output = build();
  const inner = ctx.tape.splice(start);
  return { outputs: [output.name], inner };
}

/** A composite's input gradients: its inner tape run backwards from `g`. */
export function compositeBackward(ctx: LoweringContext, entry: TapeEntry<unknown>, g: Val, needs: boolean[]): (Val | null)[] {
  const grads = ctx.passes.backpropagate(ctx, entry.inner ?? [], new Map([[entry.outputs[0].name, g]]));
  // A value passed more than once (`attention(h, h, h)`) has its whole gradient, summed over
  // its uses inside, given once: the caller adds each input's gradient to its value's.
  return entry.inputs.map((v, k) => {
    const first = entry.inputs.findIndex((u) => u.name === v.name) === k;
    return needs[k] && first ? grads.get(v.name) ?? null : null;
  });
}
