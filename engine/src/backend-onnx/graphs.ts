// Assembles whole ONNX models from a checked model: the training step (forward, loss,
// backward, optimizer update, the tensors its statistics read) and the forward-only model used for
// evaluation and export.

import type { FnIR, IrNode, ModelIR, OptimizerSpec, TrainIR, ValueId } from '../lang/api.js';
import { Dim, type Shape } from '../shape/dim.js';
import { OnnxGraphBuilder } from '../onnx/builder.js';
import { LoweringContext, type DType, type MaskSlot, type Val } from '../onnx/context.js';
import { lowerGraph, lowerOp } from './forward.js';
import { lowerBackward, ONNX_PASSES } from './backward.js';
import { activationNodes } from './activations.js';
import { lowerGradClipping, lowerOptimizer, stateKeys, stateScale, type ParamSlot } from './optimizer.js';
import { OnnxUnsupported } from '../onnx/unsupported.js';
import { opDef } from '../ops/registry.js';
import { lossAttrs } from '../lang/trainCatalogue.js';

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

/** The data a step of the graph reads: the model inputs and the labels of one batch, and its dropout masks. */
export interface StepBatchSlots {
  /** In the order the TS engine draws them from the step's dropout stream. */
  masks: MaskSlot[];
  data: DataSlot[];
  labels: DataSlot;
}

export interface TrainStepGraph {
  bytes: Uint8Array;
  /** Training steps the graph takes per run, one batch each, in order. */
  steps: number;
  /** ONNX nodes in the graph (session creation time grows faster than linearly in it). */
  nodes: number;
  /** Micro-batches per step. */
  micro: number;
  /** The input slots of each step's micro-batches (`steps · micro` entries, step by step); step 0's first has the model's names. */
  batches: StepBatchSlots[];
  params: TensorSlot[];
  /** The parameters that train (all but the frozen), in `params` order: the stats follow it. */
  trained: TensorSlot[];
  /** Frozen parameters: inputs only, with no `next:` output. */
  frozen: ReadonlySet<string>;
  buffers: TensorSlot[];
  /** Optimizer state, named `<param>.<key>` (`fc1.weight.exp_avg`); `scale` times PyTorch's value. */
  state: (TensorSlot & { scale: number })[];
  /** The float32 scalar input holding the 1-based number of the run's first step (Adam's bias correction). */
  stepInput: string;
  /** With a scheduled learning rate, the float32 scalar input of each step's rate (`steps` entries); else null. */
  lrInputs: string[] | null;
  /** Output name of the losses [steps]. */
  lossOutput: string;
  /** The output of each step that computes statistics, in step order (empty without statistics). */
  statsOutputs: StepStatsOutput[];
  /** The activation ops whose outputs the statistics carry, in `StepStatsOutput` order. */
  activations: IrNode[];
}

/**
 * The tensors a step's statistics are computed from outside the graph, by the functions the
 * TS engine uses (core/stats.ts), flattened one after the other into one output (each output
 * costs a copy and a tensor object in onnxruntime-node): per trained parameter in `trained`
 * order its gradient, then each one's update old − new, then each one's new value unless
 * `weights` names the outputs that hold them (the run's last step: its `next:` outputs), then
 * the output of each node of `activations`, of the shapes `activationShapes` over the dims of
 * the step's batch slot `batch` (its last micro-batch).
 */
export interface StepStatsOutput {
  name: string;
  batch: number;
  weights: string[] | null;
  activationShapes: Shape[];
}

/** Outputs that carry a tensor's new value are named `next:` + its input name. */
export const NEXT_PREFIX = 'next:';

export interface TrainStepOptions {
  dropout: boolean;
  stats: boolean;
  /** With `stats`, which steps compute them: every step (default) or only the last of the run. */
  statsOn?: 'every' | 'last';
  /** Training steps per run (default 1): the step is unrolled this many times, parameters flowing from copy to copy. */
  steps?: number;
  /** Micro-batches per step (default 1): each gets its forward and backward, their mean gradient the update (gradient accumulation). */
  micro?: number;
  /** The loss's arguments from the `train` block (the others take their defaults). */
  lossArgs?: TrainIR['lossArgs'];
  /** The loss's class weights from the `train` block (absent: every class weighs 1), a constant input. */
  lossWeight?: TrainIR['lossWeight'];
  /** The learning rate is an input per step (a schedule) rather than the optimizer's constant. */
  scheduledLr?: boolean;
  /** Gradient clipping by total norm and by value (null or absent: none). */
  clipGradNorm?: number | null;
  clipGradValue?: number | null;
  /** Parameters (state_dict names) that get no gradient and no update. */
  frozen?: readonly string[];
  /** Parameters (state_dict names) the optimizer's weight decay skips. */
  noDecay?: readonly string[];
}

type LossKind = TrainIR['loss'];

/** The model's input slots; steps after the first get `@k` names (`x@1`). */
function dataSlots(model: ModelIR, copy = 0): DataSlot[] {
  const g = model.graph;
  return g.inputs.map((id, i) => ({
    name: slotName(g.values[id].name ?? `input${i}`, copy),
    dtype: g.values[id].dtype,
    dims: g.values[id].shape.map((d) => d.constant() ?? d.toString()),
  }));
}

function slotName(name: string, copy: number): string {
  return copy === 0 ? name : `${name}@${copy}`;
}

/**
 * Dims as the graph declares them for a step's micro-batch `micro`: onnxruntime takes one
 * size per dim name, and a step's last micro-batch may be smaller than the others (`B` → `B~2`).
 */
function declaredDims(dims: readonly (number | string)[], micro: number): (number | string)[] {
  return micro === 0 ? [...dims] : dims.map((d) => (typeof d === 'number' ? d : d.replace(/[A-Za-z_]\w*/g, (name) => `${name}~${micro}`)));
}

function bindInputs(ctx: LoweringContext, model: ModelIR, data: DataSlot[], micro = 0): Map<ValueId, Val> {
  const g = model.graph;
  const bound = new Map<ValueId, Val>();
  g.inputs.forEach((id, i) => {
    ctx.b.addInput(data[i].name, data[i].dtype, declaredDims(data[i].dims, micro));
    bound.set(id, { name: data[i].name, shape: g.values[id].shape, dtype: data[i].dtype });
  });
  return bound;
}

function asVal(name: string, shape: readonly number[]): Val {
  return { name, shape: shape.map((n) => Dim.of(n)), dtype: 'float32' };
}

/** The label input a loss takes: int64 class ids (the output without its class dim) for a class loss, else the output's shape. */
function labelSlot(loss: LossKind, output: Shape, copy: number): DataSlot {
  const name = slotName('labels', copy);
  if (opDef(loss)?.target === 'class-ids') return { name, dtype: 'int64', dims: output.slice(0, -1).map((d) => d.constant() ?? d.toString()) };
  return { name, dtype: 'float32', dims: output.map((d) => d.constant() ?? d.toString()) };
}

/** The values one step reads and writes: parameters, buffers and optimizer state by name. */
interface StepState {
  params: Val[];
  buffers: Map<string, Val>;
  optimizer: Map<string, Val>;
}

/** What one lowered step produced: its loss, the values its statistics read (if asked) and the state after it. */
interface StepResult {
  loss: Val;
  stats: { grads: Val[]; deltas: Val[]; weights: Val[]; activations: Val[] } | null;
  next: StepState;
}

/** What one micro-batch's forward, loss and backward produced. */
interface MicroResult {
  ctx: LoweringContext;
  loss: Val;
  /** The trained parameters' gradients, in `trained` order. */
  grads: Val[];
  values: Map<ValueId, Val>;
  /** The buffers after it (batch norm's running statistics). */
  buffers: Map<string, Val>;
  batch: StepBatchSlots;
}

/** Lowers the forward, loss and backward of batch slot `copy` (micro-batch `micro` of its step), reading `state`. */
function lowerMicro(
  b: OnnxGraphBuilder,
  model: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  loss: LossKind,
  options: TrainStepOptions,
  state: StepState,
  trained: readonly { value: Val }[],
  copy: number,
  micro: number,
): MicroResult {
  const ctx = new LoweringContext(b, { training: true, dropout: options.dropout }, fns, ONNX_PASSES);
  const g = model.graph;
  const data = dataSlots(model, copy);
  const bound = bindInputs(ctx, model, data, micro);
  for (const { value } of trained) ctx.requiresGrad.add(value.name);
  g.params.forEach(({ value }, i) => bound.set(value, state.params[i]));
  for (const { buffer, value } of g.buffers) bound.set(value, state.buffers.get(buffer.name) as Val);

  const values = lowerGraph(ctx, g, bound);
  const output = values.get(g.output) as Val;
  const labels = labelSlot(loss, output.shape, copy);
  b.addInput(labels.name, labels.dtype, declaredDims(labels.dims, micro));
  const labelVal: Val = { name: labels.name, shape: labels.dims.map((d) => Dim.from(d)), dtype: labels.dtype };
  const weight: Val[] = options.lossWeight ? [{ name: ctx.b.constFloat(options.lossWeight), shape: [Dim.of(options.lossWeight.length)], dtype: 'float32' }] : [];
  const [lossVal] = lowerOp(ctx, loss, [output, labelVal, ...weight], lossAttrs(loss, options.lossArgs), [{ shape: [], dtype: 'float32' }]).outputs;
  if (!ctx.needsGrad(lossVal)) throw new OnnxUnsupported('a model whose loss depends on no parameter');
  const grads = lowerBackward(ctx, lossVal, trained.map((t) => t.value));
  // Batch norm records its running statistics' new values under the name of the value it read.
  const buffers = new Map([...state.buffers].map(([name, v]) => [name, ctx.bufferUpdates.get(v.name) ?? v]));
  return { ctx, loss: lossVal, grads, values, buffers, batch: { data, labels, masks: ctx.masks } };
}

/**
 * Lowers one training step reading `state`: forward, loss and backward on each of its
 * micro-batches (batch slots `copies`), their mean gradient clipped, then the update.
 */
function lowerStep(
  b: OnnxGraphBuilder,
  model: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  loss: LossKind,
  optimizer: OptimizerSpec,
  options: TrainStepOptions,
  state: StepState,
  step: string,
  lr: string | null,
  copies: readonly number[],
  withStats: boolean,
  activations: readonly IrNode[],
): { result: StepResult; batches: StepBatchSlots[] } {
  const g = model.graph;
  const frozen = new Set(options.frozen ?? []);
  const trained = g.params.flatMap(({ param }, i) => (frozen.has(param.name) ? [] : [{ param, value: state.params[i] }]));
  const micros: MicroResult[] = [];
  let buffers = state.buffers;
  for (const [j, copy] of copies.entries()) {
    const micro = lowerMicro(b, model, fns, loss, options, { ...state, buffers }, trained, copy, j);
    buffers = micro.buffers;
    micros.push(micro);
  }
  const last = micros[micros.length - 1];
  const ctx = last.ctx;
  let grads = last.grads;
  let lossVal = last.loss;
  if (micros.length > 1) {
    // The mean over the micro-batches, as (loss / n).backward() on each accumulates it.
    const mean = (pieces: Val[]): Val => ctx.binary('Mul', pieces.reduce((a, x) => ctx.binary('Add', a, x, x)), ctx.scalar(1 / pieces.length), pieces[0]);
    grads = grads.map((_, i) => mean(micros.map((m) => m.grads[i])));
    lossVal = mean(micros.map((m) => m.loss));
  }
  const clip = { norm: options.clipGradNorm ?? null, value: options.clipGradValue ?? null };
  grads = lowerGradClipping(ctx, grads, clip);
  const slots: ParamSlot[] = trained.map(({ param, value }, i) => ({ name: param.name, value, grad: grads[i] }));
  const updated = lowerOptimizer(ctx, optimizer, slots, state.optimizer, step, !withStats && micros.length === 1, lr, new Set(options.noDecay ?? []));
  const stats = withStats && slots.length > 0
    ? {
      grads: slots.map((s) => s.grad),
      // Without statistics SGD may fold its update away (delta null); with them it never does.
      deltas: slots.map((s) => updated.params.get(s.name)?.delta as Val),
      weights: slots.map((s) => updated.params.get(s.name)?.next as Val),
      activations: activations.map((node) => last.values.get(node.outputs[0]) as Val),
    }
    : null;
  const next: StepState = {
    params: g.params.map(({ param }, i) => updated.params.get(param.name)?.next ?? state.params[i]),
    buffers,
    optimizer: updated.state,
  };
  return { result: { loss: lossVal, stats, next }, batches: micros.map((m) => m.batch) };
}

/**
 * Builds the training step of `model` under `loss` and `optimizer` as one graph; with
 * `steps` > 1 the step is unrolled that many times over as many batches, so the
 * parameters and optimizer state cross the JS boundary once per run.
 */
export function buildTrainStep(
  model: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  loss: LossKind,
  optimizer: OptimizerSpec,
  options: TrainStepOptions,
): TrainStepGraph {
  const steps = Math.max(1, Math.floor(options.steps ?? 1));
  const micro = Math.max(1, Math.floor(options.micro ?? 1));
  const b = new OnnxGraphBuilder(`${model.name}_train_step`);
  const g = model.graph;
  const params: TensorSlot[] = g.params.map(({ param }) => ({ name: param.name, shape: param.shape }));
  const buffers: TensorSlot[] = g.buffers.map(({ buffer }) => ({ name: buffer.name, shape: buffer.shape }));
  const scheduled = options.scheduledLr ?? false;
  const frozen = new Set(options.frozen ?? []);
  const trained = params.filter((p) => !frozen.has(p.name));
  const stateSlots = trained.flatMap((p) => stateKeys(optimizer).map((key) => ({ name: `${p.name}.${key}`, shape: p.shape, scale: stateScale(optimizer, key, scheduled) })));
  let state: StepState = {
    params: params.map((p) => asVal(b.addInput(p.name, 'float32', p.shape), p.shape)),
    buffers: new Map(buffers.map((s) => [s.name, asVal(b.addInput(s.name, 'float32', s.shape), s.shape)])),
    optimizer: new Map(stateSlots.map((s) => [s.name, asVal(b.addInput(s.name, 'float32', s.shape), s.shape)])),
  };
  const stepInput = b.addInput('step', 'float32', []);

  const batches: StepBatchSlots[] = [];
  const losses: string[] = [];
  const statsOutputs: StepStatsOutput[] = [];
  const activations = activationNodes(g);
  const lrInputs = scheduled ? Array.from({ length: steps }, (_, copy) => b.addInput(slotName('lr', copy), 'float32', [])) : null;
  for (let copy = 0; copy < steps; copy++) {
    const step = copy === 0 ? stepInput : b.op1('Add', [stepInput, b.constFloat(copy)]);
    const withStats = options.stats && (options.statsOn !== 'last' || copy === steps - 1);
    const slots = Array.from({ length: micro }, (_, j) => copy * micro + j);
    const { result, batches: stepBatches } = lowerStep(b, model, fns, loss, optimizer, options, state, step, lrInputs?.[copy] ?? null, slots, withStats, activations);
    batches.push(...stepBatches);
    losses.push(b.op1('Unsqueeze', [result.loss.name, b.constInt([0])]));
    state = result.next;
    if (result.stats) {
      const { grads, deltas, weights, activations: outputs } = result.stats;
      // The last step's new weights are its `next:` outputs; each node counts (about a microsecond each).
      const inline = copy < steps - 1;
      const flat = [...grads, ...deltas, ...(inline ? weights : []), ...outputs].map((v) => (v.shape.length === 1 ? v.name : b.op1('Reshape', [v.name, b.constInt([-1])])));
      const name = `stats${statsOutputs.length}`;
      // A fresh value that no other output takes: output at once (addOutput renames it).
      b.addOutput(name, b.op1('Concat', flat, { axis: 0 }), 'float32');
      statsOutputs.push({ name, batch: (copy + 1) * micro - 1, weights: inline ? null : trained.map((p) => NEXT_PREFIX + p.name), activationShapes: outputs.map((v) => v.shape) });
    }
  }

  b.addOutput('loss', losses.length === 1 ? losses[0] : b.op1('Concat', losses, { axis: 0 }), 'float32', [steps]);
  params.forEach((p, i) => {
    if (!frozen.has(p.name)) b.addOutput(NEXT_PREFIX + p.name, state.params[i].name, 'float32', p.shape);
  });
  for (const s of stateSlots) b.addOutput(NEXT_PREFIX + s.name, (state.optimizer.get(s.name) as Val).name, 'float32', s.shape);
  for (const buf of buffers) b.addOutput(NEXT_PREFIX + buf.name, (state.buffers.get(buf.name) as Val).name, 'float32', buf.shape);
  return { bytes: b.toBytes(), steps, micro, nodes: b.nodeCount, batches, params, trained, frozen, buffers, state: stateSlots, stepInput, lrInputs, lossOutput: 'loss', statsOutputs, activations: statsOutputs.length > 0 ? activations : [] };
}

export interface ForwardGraph {
  bytes: Uint8Array;
  data: DataSlot[];
  /** Parameters and buffers that are graph inputs (empty when baked in as initializers). */
  weights: TensorSlot[];
  output: string;
  /** The output name of each probed value (see `buildForward`'s `probes`). */
  probes: Map<ValueId, string>;
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
  /** IR values to fetch as extra outputs, each as it is lowered (the soundness tests compare their shapes). */
  probes: readonly ValueId[] = [],
): ForwardGraph {
  const b = new OnnxGraphBuilder(model.name);
  const ctx = new LoweringContext(b, { training: false, dropout: false }, fns, ONNX_PASSES);
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
  // Probes first: addOutput renames the value it outputs, so each ONNX value is output once.
  const probeOutputs = new Map<ValueId, string>();
  const outputNames = new Map<string, string>();
  for (const id of probes) {
    const v = values.get(id);
    if (!v || v.name === output.name) continue;
    let out = outputNames.get(v.name);
    if (out === undefined) {
      out = `probe:${id}`;
      outputNames.set(v.name, out);
      b.addOutput(out, v.name, v.dtype);
    }
    probeOutputs.set(id, out);
  }
  b.addOutput('output', output.name, output.dtype, ctx.onnxDims(output.shape));
  for (const id of probes) if (values.get(id)?.name === output.name) probeOutputs.set(id, 'output');
  return { bytes: b.toBytes(), data, weights, output: 'output', probes: probeOutputs };
}
