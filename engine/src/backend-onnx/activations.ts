// The model's ops whose outputs the step graph hands out for activation statistics: those
// with an activation kind in the registry (rectifiers die, sigmoid/tanh saturate). The
// statistics themselves are computed from the outputs by core/stats.ts, as on the TS engine.

import type { Graph, IrNode } from '../lang/api.js';
import { opDef } from '../ops/registry.js';

/** The model's activation ops that get statistics, in graph order. */
export function activationNodes(graph: Graph): IrNode[] {
  return graph.nodes.filter((node) => opDef(node.op)?.activation !== undefined && graph.values[node.outputs[0]].shape.length > 0);
}
