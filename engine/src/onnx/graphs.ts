// Assembles whole ONNX models from a checked model: the training step (forward, loss,
// backward, optimizer update, gradient statistics) and the forward-only model used for
// evaluation and export.

import type { FnIR, ModelIR, OptimizerSpec, TrainIR, ValueId } from '../lang/api.js';
import { Dim, type Shape } from '../shape/dim.js';
import { OnnxGraphBuilder } from './builder.js';
import { LoweringContext, type DType, type Val } from './context.js';
import { lowerGraph, lowerOp } from './forward.js';
import { lowerBackward } from './backward.js';
import { lowerGradStats, lowerOptimizer, RAW_STATS, stateKeys, type ParamSlot, type ParamUpdate } from './optimizer.js';
import { OnnxUnsupported } from './unsupported.js';

export interface TensorSlot {
  /** The ONNX input name; the matching output (if any) is `NEXT_PREFIX + name`. */
  name: string;
  shape: number[];
}

export interface DataSlot {
  name: string;
  dtype: DType;
  /** Dims with symbolic entries as names (`B`). */
  dims: (number | string)[];
}

export interface TrainStepGraph {
  bytes: Uint8Array;
  data: DataSlot[];
  labels: DataSlot;
  params: TensorSlot[];
  buffers: TensorSlot[];
  /** Optimizer state, named `<param>.<key>` (`fc1.weight.exp_avg`). */
  state: TensorSlot[];
  /** The float32 scalar input holding the 1-based step number (Adam's bias correction). */
  stepInput: string;
  /** Output names: the loss and the raw stats vector (RAW_STATS floats per parameter, in `params` order). */
  lossOutput: string;
  statsOutput: string | null;
}

/** Outputs that carry a tensor's new value are named `next:` + its input name. */
export const NEXT_PREFIX = 'next:';

export interface TrainStepOptions {
  dropout: boolean;
  stats: boolean;
}

type LossKind = TrainIR['loss'];

function dataSlots(model: ModelIR): DataSlot[] {
  const g = model.graph;
  return g.inputs.map((id, i) => ({
    name: g.values[id].name ?? `input${i}`,
    dtype: g.values[id].dtype,
    dims: g.values[id].shape.map((d) => d.constant() ?? d.toString()),
  }));
}

function bindInputs(ctx: LoweringContext, model: ModelIR, data: DataSlot[]): Map<ValueId, Val> {
  const g = model.graph;
  const bound = new Map<ValueId, Val>();
  g.inputs.forEach((id, i) => {
    ctx.b.addInput(data[i].name, data[i].dtype, data[i].dims);
    bound.set(id, { name: data[i].name, shape: g.values[id].shape, dtype: data[i].dtype });
  });
  return bound;
}

function asVal(name: string, shape: readonly number[]): Val {
  return { name, shape: shape.map((n) => Dim.of(n)), dtype: 'float32' };
}

/** The label input a loss takes: int64 class ids [B] for cross entropy, else the output's shape. */
function labelSlot(loss: LossKind, output: Shape): DataSlot {
  if (loss === 'cross_entropy') return { name: 'labels', dtype: 'int64', dims: [output[0].constant() ?? output[0].toString()] };
  return { name: 'labels', dtype: 'float32', dims: output.map((d) => d.constant() ?? d.toString()) };
}

/** Builds the one-graph training step of `model` under `loss` and `optimizer`. */
export function buildTrainStep(
  model: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  loss: LossKind,
  optimizer: OptimizerSpec,
  options: TrainStepOptions,
): TrainStepGraph {
  const b = new OnnxGraphBuilder(`${model.name}_train_step`);
  const ctx = new LoweringContext(b, { training: true, dropout: options.dropout }, fns);
  const g = model.graph;
  const data = dataSlots(model);
  const bound = bindInputs(ctx, model, data);
  const params: TensorSlot[] = g.params.map(({ param }) => ({ name: param.name, shape: param.shape }));
  const paramVals = g.params.map(({ param, value }) => {
    b.addInput(param.name, 'float32', param.shape);
    const v = asVal(param.name, param.shape);
    ctx.requiresGrad.add(v.name);
    bound.set(value, v);
    return v;
  });
  const buffers: TensorSlot[] = g.buffers.map(({ buffer, value }) => {
    b.addInput(buffer.name, 'float32', buffer.shape);
    bound.set(value, asVal(buffer.name, buffer.shape));
    return { name: buffer.name, shape: buffer.shape };
  });
  const stateSlots: TensorSlot[] = [];
  const stateVals = new Map<string, Val>();
  for (const p of params) {
    for (const key of stateKeys(optimizer)) {
      const name = `${p.name}.${key}`;
      b.addInput(name, 'float32', p.shape);
      stateVals.set(name, asVal(name, p.shape));
      stateSlots.push({ name, shape: p.shape });
    }
  }
  const stepInput = b.addInput('step', 'float32', []);

  const values = lowerGraph(ctx, g, bound);
  const output = values.get(g.output) as Val;
  const labels = labelSlot(loss, output.shape);
  b.addInput(labels.name, labels.dtype, labels.dims);
  const labelVal: Val = { name: labels.name, shape: labels.dims.map((d) => Dim.from(d)), dtype: labels.dtype };
  const [lossVal] = lowerOp(ctx, loss, [output, labelVal], {}, [{ shape: [], dtype: 'float32' }]).outputs;
  if (!ctx.needsGrad(lossVal)) throw new OnnxUnsupported('a model whose loss depends on no parameter');

  const grads = lowerBackward(ctx, lossVal, paramVals);
  const slots: ParamSlot[] = params.map((p, i) => ({ name: p.name, value: paramVals[i], grad: grads[i] }));
  const updated = lowerOptimizer(ctx, optimizer, slots, stateVals, stepInput);

  // Stats read values that addOutput renames, so they are lowered before the outputs.
  const stats = options.stats && slots.length > 0 ? lowerGradStats(ctx, slots, updated.params) : null;
  b.addOutput('loss', lossVal.name, 'float32', []);
  for (const p of params) b.addOutput(NEXT_PREFIX + p.name, (updated.params.get(p.name) as ParamUpdate).next.name, 'float32', p.shape);
  for (const s of stateSlots) b.addOutput(NEXT_PREFIX + s.name, (updated.state.get(s.name) as Val).name, 'float32', s.shape);
  for (const buf of buffers) {
    const next = ctx.bufferUpdates.get(buf.name);
    b.addOutput(NEXT_PREFIX + buf.name, next ? next.name : buf.name, 'float32', buf.shape);
  }
  const statsOutput = stats ? 'stats' : null;
  if (stats) b.addOutput('stats', stats, 'float32', [RAW_STATS * slots.length]);
  return { bytes: b.toBytes(), data, labels, params, buffers, state: stateSlots, stepInput, lossOutput: 'loss', statsOutput };
}

export interface ForwardGraph {
  bytes: Uint8Array;
  data: DataSlot[];
  /** Parameters and buffers that are graph inputs (empty when baked in as initializers). */
  weights: TensorSlot[];
  output: string;
}

/**
 * Builds the forward-only model in eval mode (batch norm on running statistics, no
 * dropout). With `initializers`, every parameter and buffer is baked in (export);
 * without, they are inputs (evaluation during training).
 */
export function buildForward(
  model: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  initializers?: ReadonlyMap<string, Float32Array>,
): ForwardGraph {
  const b = new OnnxGraphBuilder(model.name);
  const ctx = new LoweringContext(b, { training: false, dropout: false }, fns);
  const g = model.graph;
  const data = dataSlots(model);
  const bound = bindInputs(ctx, model, data);
  const weights: TensorSlot[] = [];
  const named = [...g.params.map(({ param, value }) => ({ name: param.name, shape: param.shape, value })),
    ...g.buffers.map(({ buffer, value }) => ({ name: buffer.name, shape: buffer.shape, value }))];
  for (const { name, shape, value } of named) {
    if (initializers) {
      const tensor = initializers.get(name);
      if (!tensor) throw new Error(`no weights for '${name}'`);
      b.addInitializer(name, tensor, shape);
    } else {
      b.addInput(name, 'float32', shape);
      weights.push({ name, shape });
    }
    bound.set(value, asVal(name, shape));
  }
  const values = lowerGraph(ctx, g, bound);
  const output = values.get(g.output) as Val;
  b.addOutput('output', output.name, output.dtype, ctx.onnxDims(output.shape));
  return { bytes: b.toBytes(), data, weights, output: 'output' };
}
