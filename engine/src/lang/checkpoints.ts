// Activation checkpointing's spans: the `checkpoint(...)` expressions of a graph and the
// applications of the instances a `train` block's `checkpoint` names, outermost only, which
// both back ends run without keeping their activations and recompute in the backward pass.

import { opDef } from '../ops/registry.js';
import type { Graph, IrNode, ModelIR, NodeSpan, TrainControls, ValueId } from './api.js';

/** The first node of `nodes[from..to)` that running twice would change, with what it would change. */
export function sideEffectIn(nodes: readonly IrNode[], span: { from: number; to: number }): { node: IrNode; effect: string } | null {
  for (let k = span.from; k < span.to; k++) {
    const node = nodes[k];
    const effect = node.op === 'call_fn' || node.op === 'unknown' ? undefined : opDef(node.op)?.sideEffect;
    if (effect) return { node, effect };
  }
  return null;
}

/** The values a span reads that are defined before it: the inputs a rerun of it needs, in first-use order. */
export function spanInputs(graph: Graph, span: NodeSpan): ValueId[] {
  const nodes = graph.nodes.slice(span.from, span.to);
  const defined = new Set(nodes.flatMap((n) => n.outputs));
  return [...new Set(nodes.flatMap((n) => n.inputs))].filter((id) => !defined.has(id));
}

/** The names a `train` block's `checkpoint` can take: the model's own applied layer and block instances. */
export function checkpointableInstances(graph: Graph): string[] {
  return [...new Set((graph.instanceCalls ?? []).map((c) => c.layer as string))];
}

/** The spans a run checkpoints, in execution order, none inside another. */
export function checkpointSpans(graph: Graph, controls?: TrainControls): NodeSpan[] {
  const named = new Set(controls?.checkpoint ?? []);
  const spans = [...(graph.checkpoints ?? []), ...(graph.instanceCalls ?? []).filter((c) => named.has(c.layer as string))];
  spans.sort((a, b) => a.from - b.from || b.to - a.to);
  const outermost: NodeSpan[] = [];
  for (const span of spans) {
    const last = outermost[outermost.length - 1];
    if (!last || span.from >= last.to) outermost.push(span);
  }
  return outermost;
}

/** The model a run lowers: its graph's `checkpoints` are every span the run checkpoints. */
export function checkpointedModel(model: ModelIR, controls?: TrainControls): ModelIR {
  const spans = checkpointSpans(model.graph, controls);
  if (spans.length === 0 && !model.graph.checkpoints) return model;
  return { ...model, graph: { ...model.graph, checkpoints: spans } };
}
