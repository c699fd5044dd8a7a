// What a checked graph costs: forward FLOPs (each op's own count from the registry, a
// multiply-add counting 2) and activation memory, symbolic in the batch dim where needed.

import { Dim, type Shape } from '../shape/dim.js';
import { opDef } from '../ops/registry.js';
import type { GraphBuilder } from './ir.js';

/** The recorded shape of a graph value, null when the checker could not know it. */
function recordedShape(graph: GraphBuilder, value: number): Shape | null {
  return graph.unknownShapes.has(value) ? null : graph.values[value].shape;
}

/**
 * Forward FLOPs of the graph's nodes `from` to `to` (exclusive), from their recorded shapes:
 * null when one is unknown. A fn call counts 0 (its body is not inlined); a placeholder left
 * by an error is unknown. Computed on request: publishing diagnostics needs none of them.
 */
export function graphFlops(graph: GraphBuilder, from = 0, to = graph.nodes.length): Dim | null {
  let total = Dim.of(0);
  for (let k = from; k < to; k++) {
    const node = graph.nodes[k];
    if (node.op === 'call_fn') continue;
    if (node.op === 'unknown') return null;
    const output = recordedShape(graph, node.outputs[0]);
    const inputs = node.inputs.map((v) => recordedShape(graph, v));
    if (output === null || inputs.some((s) => s === null)) return null;
    const flops = opDef(node.op)?.flops;
    if (flops) total = total.add(flops(inputs as Shape[], output, node.attrs as never));
  }
  return total;
}

export function bytesPerElement(dtype: 'float32' | 'int64'): number {
  return dtype === 'int64' ? 8 : 4;
}
