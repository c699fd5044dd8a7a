// Lowers the checked IR's forward computation to ONNX nodes: each node by its op's emitter
// from the registry (engine/src/ops/), checked against the op's own shape rule, `fn` calls
// inlined, and every differentiable op recorded on the tape for backward.ts (a checkpointed
// span as one entry, which backward.ts lowers again).

import { shapesEqual, formatShape, type Shape } from '../shape/dim.js';
import { DimBinding, patternOf } from '../shape/binding.js';
import { opDef } from '../ops/registry.js';
import type { OnnxOut } from '../ops/def.js';
import { resolveAttrs } from '../ops/shape-rule.js';
import { spanInputs } from '../lang/checkpoints.js';
import type { Graph, NodeSpan, TextRange, ValueId } from '../lang/api.js';
import { LoweringBug, LoweringContext, type TapeEntry, type Val } from '../onnx/context.js';
import { OnnxUnsupported } from '../onnx/unsupported.js';


/**
 * Lowers one op; records it on the tape when a gradient can flow through it. The op's shape
 * rule must give the output shape the IR has (as the TS engine's kernels check theirs).
 */
export function lowerOp(
  ctx: LoweringContext,
  op: string,
  inputs: Val[],
  attrs: object,
  outs: OnnxOut[],
  range?: TextRange,
): { outputs: Val[]; bufferUpdates?: Val[] } {
  const def = opDef(op);
  if (!def) throw new OnnxUnsupported(`the op \`${op}\``, range);
  const rule = def.shape(inputs.map((v) => v.shape), attrs as never, inputs.map((v) => v.dtype));
  if ('error' in rule || !shapesEqual(rule.shape, outs[0].shape)) {
    const got = 'error' in rule ? rule.error.code : formatShape(rule.shape);
    throw new LoweringBug(`${op}: the shape rule gives ${got} for inputs ${inputs.map((v) => formatShape(v.shape)).join(', ')}, the IR has ${formatShape(outs[0].shape)}`);
  }
  const result = def.onnx.forward(ctx, inputs, attrs as never, outs);
  const outputs = result.outputs.map((name, i) => ({ name, shape: outs[i].shape, dtype: outs[i].dtype }));
  const gradInputs = def.gradInputs?.(inputs.length) ?? inputs.map((_, k) => k);
  if (gradInputs.some((k) => inputs[k] !== undefined && ctx.needsGrad(inputs[k]))) {
    outputs.forEach((v) => v.dtype === 'float32' && ctx.requiresGrad.add(v.name));
    ctx.tape.push({ op, inputs, outputs, attrs, saved: result.saved ?? {}, ...(result.inner ? { inner: result.inner } : {}), range });
  }
  return { outputs, bufferUpdates: result.bufferUpdates };
}

/** Maps a graph's own shapes to the caller's (identity for the model's graph). */
export type ShapeResolver = (shape: Shape) => Shape;

/**
 * Lowers a graph with its inputs, parameters and buffers already bound to ONNX values;
 * `resolve` maps the graph's own shapes to the caller's (for an inlined `fn`).
 * Returns the ONNX values of every graph value.
 */
export function lowerGraph(ctx: LoweringContext, graph: Graph, bound: Map<ValueId, Val>, resolve: ShapeResolver = (s) => s): Map<ValueId, Val> {
  const values = new Map(bound);
  let from = 0;
  for (const span of graph.checkpoints ?? []) {
    lowerNodes(ctx, graph, values, resolve, from, span.from);
    lowerCheckpointed(ctx, graph, values, resolve, span);
    from = span.to;
  }
  lowerNodes(ctx, graph, values, resolve, from, graph.nodes.length);
  return values;
}

/** Lowers `graph.nodes[from..to)`, each output into `values`. */
function lowerNodes(ctx: LoweringContext, graph: Graph, values: Map<ValueId, Val>, resolve: ShapeResolver, from: number, to: number): void {
  const get = (id: ValueId, range: TextRange): Val => {
    const v = values.get(id);
    if (!v) throw new LoweringBug(`a value used before it is defined (#${id}, at offset ${range.start})`);
    return v;
  };
  for (let k = from; k < to; k++) {
    const node = graph.nodes[k];
    const inputs = node.inputs.map((id) => get(id, node.range));
    if (node.op === 'call_fn') {
      values.set(node.outputs[0], inlineFn(ctx, node.attrs.fn, inputs, node.range));
      continue;
    }
    if (node.op === 'unknown') throw new LoweringBug('a value an error left undetermined, in a model that checked clean');
    const outs = node.outputs.map((id) => ({ shape: resolve(graph.values[id].shape), dtype: graph.values[id].dtype }));
    const { outputs, bufferUpdates } = lowerOp(ctx, node.op, inputs, resolveAttrs(node.attrs, resolve), outs, node.range);
    node.outputs.forEach((id, i) => values.set(id, outputs[i]));
    // Batch norm's new running statistics, recorded under the names of the buffers it read.
    bufferUpdates?.forEach((v, i) => ctx.bufferUpdates.set(inputs[3 + i].name, v));
  }
}

/** What a checkpointed span's tape entry keeps: how to lower the span again. */
export interface CheckpointAttrs {
  graph: Graph;
  span: NodeSpan;
  /** The span's inputs (values defined before it), in the order of the entry's inputs. */
  outer: ValueId[];
  resolve: ShapeResolver;
}

/**
 * Lowers a checkpointed span and records it as one tape entry: the backward pass lowers the
 * span again from its inputs (recomputeCheckpoint) rather than reading its forward values.
 */
function lowerCheckpointed(ctx: LoweringContext, graph: Graph, values: Map<ValueId, Val>, resolve: ShapeResolver, span: NodeSpan): void {
  const outer = spanInputs(graph, span);
  const tapeLength = ctx.tape.length;
  lowerNodes(ctx, graph, values, resolve, span.from, span.to);
  const recorded = ctx.tape.length > tapeLength;
  ctx.tape.length = tapeLength;
  if (!recorded) return;
  const attrs: CheckpointAttrs = { graph, span, outer, resolve };
  ctx.tape.push({ op: 'checkpoint', inputs: outer.map((id) => values.get(id) as Val), outputs: [values.get(span.output) as Val], attrs, saved: {}, range: span.range });
}

/**
 * The span of a checkpoint entry lowered again from its inputs, once its output's gradient
 * `g` is known: the recomputed output and the span's own tape.
 */
export function recomputeCheckpoint(ctx: LoweringContext, inputs: readonly Val[], g: Val, { graph, span, outer, resolve }: CheckpointAttrs): { output: Val; tape: TapeEntry[]; standIns: Val[] } {
  // NOTE: onnxruntime's common-subexpression elimination would merge the recomputed nodes
  // with the forward's (same op, inputs and attributes), and its scheduler could run them
  // before the backward pass needs them: the data inputs are read through `x + 0·min(g)`,
  // new values that exist only once `g` does. (A NaN or infinite `g` makes them NaN, but such
  // a gradient is not finite downstream either.)
  const weights = new Set([...graph.params, ...graph.buffers].map((w) => w.value));
  const least = ctx.op('ReduceMin', [g.name], { keepdims: 0 }, []);
  const zero = ctx.binary('Mul', least, ctx.scalar(0), least);
  const standIns = outer.map((id, i) => {
    const input = inputs[i];
    if (weights.has(id) || input.dtype !== 'float32') return input;
    const standIn = ctx.binary('Add', input, zero, input);
    if (ctx.needsGrad(input)) ctx.requiresGrad.add(standIn.name);
    return standIn;
  });
  const values = new Map(outer.map((id, i) => [id, standIns[i]]));
  const tapeLength = ctx.tape.length;
  lowerNodes(ctx, graph, values, resolve, span.from, span.to);
  return { output: values.get(span.output) as Val, tape: ctx.tape.splice(tapeLength), standIns };
}

/** The shapes of a `fn`'s own graph resolved against the arguments of one call. */
export function fnShapes(fnInputs: readonly Shape[], actual: readonly Shape[], range: TextRange): ShapeResolver {
  const binding = new DimBinding();
  fnInputs.forEach((shape, i) => {
    if (!binding.match(patternOf(shape), actual[i])) throw new LoweringBug(`a fn called with an argument that does not fit its signature (at offset ${range.start})`);
  });
  return (shape) => binding.resolveShape(shape);
}

/** Inlines a `fn`; with a `grad` block its body is one tape entry whose rule is that block. */
function inlineFn(ctx: LoweringContext, name: string, args: Val[], range: TextRange): Val {
  const fn = ctx.fns.get(name);
  if (!fn) throw new LoweringBug(`a call of the unknown fn \`${name}\``);
  const g = fn.forward;
  const resolve = fnShapes(g.inputs.map((id) => g.values[id].shape), args.map((a) => a.shape), range);
  const bound = new Map(g.inputs.map((id, i) => [id, args[i]]));
  if (!fn.backward) return lowerGraph(ctx, g, bound, resolve).get(g.output) as Val;
  // Lower the body without recording it, then record the call itself with the custom rule.
  const tapeLength = ctx.tape.length;
  const out = lowerGraph(ctx, g, bound, resolve).get(g.output) as Val;
  ctx.tape.length = tapeLength;
  if (args.some((a) => ctx.needsGrad(a))) {
    ctx.requiresGrad.add(out.name);
    ctx.tape.push({ op: 'call_fn', inputs: args, outputs: [out], attrs: { fn: name }, saved: {}, range });
  }
  return out;
}
