// Activation statistics inside the step graph, as core/stats.ts defines them: for each op
// with an activation kind in the registry, the fraction of dead rectifier units (zero for
// every sample of the batch) and the fraction of saturated values (derivative below 0.01).

import type { Graph, IrNode, ValueId } from '../lang/api.js';
import { opDef } from '../ops/registry.js';
import { SATURATED_DERIVATIVE } from '../core/stats.js';
import type { LoweringContext, Val } from '../onnx/context.js';

/**
 * Floats per activation op in the stats vector: the fraction of live rectifier units (the
 * dead fraction is 1 minus it, taken outside the graph: `deadFractionOf`), the saturated fraction.
 */
export const RAW_ACTIVATION_STATS = 2;

/** The dead fraction from the raw live fraction, in float32 as a Sub in the graph would give it. */
export function deadFractionOf(live: number): number {
  return Math.fround(1 - live);
}

/** The model's activation ops that get statistics, in graph order. */
export function activationNodes(graph: Graph): IrNode[] {
  return graph.nodes.filter((node) => opDef(node.op)?.activation !== undefined && graph.values[node.outputs[0]].shape.length > 0);
}

/** Float32 vectors that concatenated make [RAW_ACTIVATION_STATS * nodes], the raw statistics of `nodes`' outputs. */
export function lowerActivationStats(ctx: LoweringContext, nodes: readonly IrNode[], values: ReadonlyMap<ValueId, Val>): string[] {
  const b = ctx.b;
  const zero = b.constFloat(0, [1]);
  // Ops that are not rectifiers have no dead units: a live fraction of 1.
  const one = b.constFloat(1, [1]);
  // The mean of a rank-1 tensor with keepdims is already a vector; of any other, a Reshape makes one.
  const meanOf = (x: string, rank: number): string => (rank === 1 ? b.op1('ReduceMean', [x], { keepdims: 1 }) : b.op1('Reshape', [b.op1('ReduceMean', [x], { keepdims: 0 }), b.constInt([1])]));
  const fractionOf = (condition: string, rank: number): string => meanOf(b.op1('Cast', [condition], { to: 1 }), rank);
  return nodes.flatMap((node) => {
    const output = values.get(node.outputs[0]) as Val;
    const y = output.name;
    const rank = output.shape.length;
    const activation = opDef(node.op)?.activation;
    if (activation?.kind === 'rectifier') {
      // A unit is alive when some sample of the batch (axis 0) has a positive value there:
      // relu's outputs are never negative, so exactly when their sum over the batch is
      // positive (onnxruntime's ReduceSum over the batch axis is far faster than ReduceMax).
      const batchSum = b.op1('ReduceSum', [y, b.constInt([0])], { keepdims: 0 });
      return [fractionOf(b.op1('Greater', [batchSum, ctx.scalar(0)]), rank - 1), zero];
    }
    if (activation?.kind === 'saturating') {
      return [one, fractionOf(b.op1('Less', [activation.onnxDerivative(ctx, output), ctx.scalar(SATURATED_DERIVATIVE)]), rank)];
    }
    return [one, zero];
  });
}
