// The backward pass written as ONNX ops: the forward tape run in reverse, each entry by its
// op's gradient emitter from the registry (a `fn`'s by its `grad` block, a checkpointed span's
// by lowering the span again), accumulating the gradients of reused values, each checked to
// have its input's exact shape, as the TS tape does.

import { formatShape, shapesEqual } from '../shape/dim.js';
import { opDef } from '../ops/registry.js';
import { LoweringBug, LoweringContext, type LoweringPasses, type TapeEntry, type Val } from '../onnx/context.js';
import { fnShapes, lowerGraph, lowerOp, recomputeCheckpoint, type CheckpointAttrs } from './forward.js';

/** Gradients of a `fn` call's inputs from its `grad(g)` block: a graph of the fn's arguments then g. */
function fnCallGradients(ctx: LoweringContext, { inputs, attrs, range }: TapeEntry<{ fn: string }>, g: Val): (Val | null)[] {
  const name = attrs.fn;
  const fn = ctx.fns.get(name);
  const backward = fn?.backward;
  if (!fn || !backward) throw new LoweringBug(`the fn \`${name}\` has no grad block`);
  const graph = backward.graph;
  const bound = new Map(graph.inputs.map((id, i) => [id, i < inputs.length ? inputs[i] : g]));
  const resolve = fnShapes(fn.forward.inputs.map((id) => fn.forward.values[id].shape), inputs.map((v) => v.shape), range ?? { start: 0, end: 0 });
  const tapeLength = ctx.tape.length;
  const values = lowerGraph(ctx, graph, bound, resolve);
  ctx.tape.length = tapeLength; // the grad block's own ops are not differentiated again
  return backward.gradOutputs.map((id) => values.get(id) ?? null);
}

/**
 * Gradients of a checkpointed span's inputs: the span is lowered again in the backward graph
 * and its own tape run backwards, so no forward value inside it is read after the forward pass.
 */
function checkpointGradients(ctx: LoweringContext, entry: TapeEntry<CheckpointAttrs>, g: Val): (Val | null)[] {
  const { output, tape, standIns } = recomputeCheckpoint(ctx, entry.inputs, g, entry.attrs);
  const grads = backpropagate(ctx, tape, new Map([[output.name, g]]));
  return standIns.map((v) => grads.get(v.name) ?? null);
}

/** The input gradients of one tape entry. */
function entryGradients(ctx: LoweringContext, entry: TapeEntry, g: Val, needs: boolean[]): (Val | null)[] {
  if (entry.op === 'call_fn') return fnCallGradients(ctx, entry as TapeEntry<{ fn: string }>, g);
  if (entry.op === 'checkpoint') return checkpointGradients(ctx, entry as TapeEntry<CheckpointAttrs>, g);
  const def = opDef(entry.op);
  if (!def) throw new LoweringBug(`no gradient rule for \`${entry.op}\``);
  return def.onnx.backward(ctx, entry as TapeEntry<never>, g, needs);
}

/**
 * Runs the tape backwards from a scalar loss; returns the gradient of each wanted value
 * (a zero-filled tensor for a parameter no gradient reaches).
 */
export function lowerBackward(ctx: LoweringContext, loss: Val, wanted: readonly Val[]): Val[] {
  const grads = backpropagate(ctx, ctx.tape, new Map([[loss.name, { name: ctx.scalar(1), shape: [], dtype: 'float32' }]]));
  return wanted.map((v) => grads.get(v.name) ?? ctx.binary('Mul', v, ctx.scalar(0), v));
}

/**
 * Runs `tape` backwards from the gradients in `seeds` (by value name), accumulating the
 * gradients of reused values; returns every gradient it formed, seeds included.
 */
export function backpropagate(ctx: LoweringContext, tape: readonly TapeEntry[], seeds: ReadonlyMap<string, Val>): Map<string, Val> {
  const grads = new Map(seeds);
  const entries = [...tape];
  const pooledRectifiers = rectifierPoolPairs(entries);
  const passThrough = new Set(pooledRectifiers.values());
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    let g = grads.get(entry.outputs[0].name);
    if (!g) continue;
    const needs = entry.inputs.map((v) => v.dtype === 'float32' && ctx.needsGrad(v));
    if (pooledRectifiers.has(entry)) {
      // A window's gradient goes to its chosen input, which the rectifier passes exactly
      // when the window's maximum is positive: its mask applied to the pooled gradient.
      g = ctx.passWherePositive(entry.outputs[0], g);
    }
    const inputGrads = passThrough.has(entry) ? [g] : entryGradients(ctx, entry, g, needs);
    entry.inputs.forEach((input, k) => {
      const ig = inputGrads[k];
      if (!ig || !needs[k]) return;
      if (!shapesEqual(ig.shape, input.shape)) {
        throw new LoweringBug(`${entry.op}: the gradient for input ${k} has shape ${formatShape(ig.shape)} but the input has shape ${formatShape(input.shape)}`);
      }
      const previous = grads.get(input.name);
      grads.set(input.name, previous ? ctx.binary('Add', previous, ig, input) : ig);
    });
  }
  return grads;
}

/**
 * The entries of an op that routes its gradient to an argmax (`max_pool2d`) whose input is a
 * rectifier's output that nothing else on the tape reads, with that rectifier: its mask is
 * applied to the pooled gradient (a fraction of the values), and the rectifier's entry passes
 * its gradient through.
 */
function rectifierPoolPairs(entries: readonly TapeEntry[]): Map<TapeEntry, TapeEntry> {
  const readers = new Map<string, number>();
  for (const entry of entries) for (const v of entry.inputs) readers.set(v.name, (readers.get(v.name) ?? 0) + 1);
  const rectifiers = new Map(entries.filter((e) => opDef(e.op)?.activation?.kind === 'rectifier').map((e) => [e.outputs[0].name, e]));
  const pairs = new Map<TapeEntry, TapeEntry>();
  for (const entry of entries) {
    const rectifier = rectifiers.get(entry.inputs[0]?.name);
    if (rectifier && opDef(entry.op)?.routesToArgmax && readers.get(entry.inputs[0].name) === 1) pairs.set(entry, rectifier);
  }
  return pairs;
}

/** This back end's passes, for the composites' inner ops: a new LoweringContext takes them. */
export const ONNX_PASSES: LoweringPasses = { lowerOp, backpropagate };
