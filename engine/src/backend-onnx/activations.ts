// Activation statistics inside the step graph, as core/stats.ts defines them: for each op
// with an activation kind in the registry, the fraction of dead rectifier units (zero for
// every sample of the batch) and the fraction of saturated values (derivative below 0.01).

import type { Graph, IrNode, ValueId } from '../lang/api.js';
import { opDef } from '../ops/registry.js';
import { SATURATED_DERIVATIVE } from '../core/stats.js';
import type { LoweringContext, Val } from '../onnx/context.js';

/** Floats per activation op in the stats vector: dead fraction, saturated fraction. */
export const RAW_ACTIVATION_STATS = 2;

/** The model's activation ops that get statistics, in graph order. */
export function activationNodes(graph: Graph): IrNode[] {
  return graph.nodes.filter((node) => opDef(node.op)?.activation !== undefined && graph.values[node.outputs[0]].shape.length > 0);
}

/** One float32 vector [RAW_ACTIVATION_STATS * nodes] of the statistics of `nodes`' outputs. */
export function lowerActivationStats(ctx: LoweringContext, nodes: readonly IrNode[], values: ReadonlyMap<ValueId, Val>): string {
  const b = ctx.b;
  const zero = b.constFloat(0, [1]);
  const asVector = (x: string): string => b.op1('Reshape', [x, b.constInt([1])]);
  const fractionOf = (condition: string): string => asVector(b.op1('ReduceMean', [b.op1('Cast', [condition], { to: 1 })], { keepdims: 0 }));
  const pieces = nodes.flatMap((node) => {
    const output = values.get(node.outputs[0]) as Val;
    const y = output.name;
    const activation = opDef(node.op)?.activation;
    if (activation?.kind === 'rectifier') {
      // A unit is alive when some sample of the batch (axis 0) has a positive value there:
      // relu's outputs are never negative, so exactly when their sum over the batch is
      // positive (onnxruntime's ReduceSum over the batch axis is far faster than ReduceMax).
      const batchSum = b.op1('ReduceSum', [y, b.constInt([0])], { keepdims: 0 });
      const alive = b.op1('Cast', [b.op1('Greater', [batchSum, ctx.scalar(0)])], { to: 1 });
      return [b.op1('Sub', [b.constFloat(1, [1]), asVector(b.op1('ReduceMean', [alive], { keepdims: 0 }))]), zero];
    }
    if (activation?.kind === 'saturating') {
      return [zero, fractionOf(b.op1('Less', [activation.onnxDerivative(ctx, output), ctx.scalar(SATURATED_DERIVATIVE)]))];
    }
    return [zero, zero];
  });
  return b.op1('Concat', pieces, { axis: 0 });
}
