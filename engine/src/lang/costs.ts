// What a checked graph costs: forward FLOPs (each op's own count from the registry, a
// multiply-add counting 2) and activation memory, symbolic in the batch dim where needed.

import { Dim, type Shape } from '../shape/dim.js';
import { opDef } from '../ops/registry.js';
import { elementCount } from '../shape/rules.js';
import type { Internal } from '../ops/def.js';
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

/** The intermediate values op `op` keeps for its backward (attention's scores), from known shapes. */
export function opInternals(op: string, inputs: readonly (Shape | null)[], output: Shape | null, attrs: object): Internal[] {
  const rule = opDef(op)?.internals;
  if (!rule || output === null || inputs.some((s) => s === null)) return [];
  return rule(inputs as Shape[], output, attrs as never);
}

/** The float32 bytes of some intermediate values. */
export function internalBytes(internals: readonly Internal[]): Dim {
  let total = Dim.of(0);
  for (const v of internals) total = total.add(elementCount(v.shape).scale(bytesPerElement('float32')));
  return total;
}

export function bytesPerElement(dtype: 'float32' | 'int64'): number {
  return dtype === 'int64' ? 8 : 4;
}
