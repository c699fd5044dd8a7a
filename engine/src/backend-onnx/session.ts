// Runs training steps on onnxruntime-node: step graphs are built once per run (one step,
// and the step unrolled `stepsPerRun` times) and one InferenceSession each serves every
// run (any batch size, through the symbolic batch dim). onnxruntime-node 1.30 copies every
// output into a fresh ArrayBuffer, so taking many steps per run is what makes this fast.
// Parameters, buffers and optimizer state are fed from the ORT tensors the previous run
// returned. (Pre-allocated outputs would cost more: ORT writes them, then the binding still
// copies each into a fresh buffer.)

import * as ort from 'onnxruntime-node';
import type { FnIR, IrNode, ModelIR, TrainIR } from '../lang/api.js';
import type { ParamGradStats } from '../core/events.js';
import { buildForward, buildTrainStep, NEXT_PREFIX, type DataSlot, type ForwardGraph, type StepBatchSlots, type StepStatsOutput, type TrainStepGraph, type TrainStepOptions } from './graphs.js';
import { Dim } from '../shape/dim.js';
import { DimBinding } from '../shape/binding.js';
import { sizeOf } from '../ops/shape-rule.js';
import { fillDropoutMask } from '../ops/dropout.js';
import { streamRng } from '../core/batches.js';
import { resolveThreads } from '../kernels/threads.js';
import { l2Norm, paramGradStats } from '../core/stats.js';

export interface OnnxTrainerOptions {
  /** onnxruntime intra-op threads (default: every core). */
  threads?: number;
  /** Compute the per-parameter gradient statistics (default true). */
  stats?: boolean;
  /**
   * Compute the statistics on step 1 and every `statsEvery`-th step only (default 1: every
   * step). Runs without a due step use graphs that skip the reductions.
   */
  statsEvery?: number;
  /**
   * 'sampled': compute the statistics only on the last step of the `run` calls that ask for
   * them (the run layer's sampled steps, core/stats.ts `sampledBatch`), instead of as
   * `statsEvery` says; the other steps then fold SGD's update into the gradient Gemms.
   */
  statsAt?: 'due-steps' | 'sampled';
  /** Apply dropout while training (default true; parity runs turn it off). */
  dropout?: boolean;
  /**
   * The run's seed: step k's dropout masks are drawn from the run's dropout stream for k,
   * as the TS engine draws them, so both back ends take the same steps (default 0).
   */
  seed?: number;
  /**
   * Training steps per `session.run` in `run`: the step graph is unrolled this many times,
   * so parameters and optimizer state cross into JS once per run (onnxruntime-node copies
   * every output into a fresh buffer). By default enough that each step's share of the
   * state a run copies out stays near STATE_BYTES_PER_STEP, at least MIN_STEPS_PER_RUN and
   * at most MAX_STEPS_PER_RUN, within NODE_BUDGET.
   */
  stepsPerRun?: number;
  /**
   * The learning rate of each 1-based step when it follows a schedule (run/backends.ts);
   * absent: the optimizer's constant rate, folded into the graph.
   */
  learningRate?: (step: number) => number;
}

/**
 * Measured on the bench/onnx/run.ts MLP (SGD, no statistics, 1 thread): 1 step per run
 * gave 0.6k steps/s, 8 gave 1.2k, 16 1.5k, 32 1.7k; session creation grows faster than the
 * node count (32 unrolled MLP
 * steps, ~5,800 nodes, take 0.8 s; 32 of resnet_block.nn 9 s), hence the node budget.
 */
export const MAX_STEPS_PER_RUN = 32;
export const NODE_BUDGET = 6000;
/**
 * A run's fixed cost is mostly copying the parameters and optimizer state out (about 1 ms
 * per MB, plus 0.3 ms): unrolling further than keeps each step's share near this many
 * bytes only makes session creation slower (the small CNN: 2.7 s for 25 steps, 0.9 s for 8).
 */
const STATE_BYTES_PER_STEP = 90_000;
/** The statistics on the last step of each run cost about a third of a step on the small CNN: at least this many steps share them. */
const MIN_STEPS_PER_RUN = 8;

/**
 * How `OnnxTrainer.run` splits steps into session runs, as counts: `stepsPerRun` steps of one
 * size at a time (a step's size: its batch size, or its micro-batches' sizes), then what
 * remains of one size in runs of the largest powers of two (so at most log2(stepsPerRun) more
 * graphs are ever built per size). `run` splits each stretch that ends at a step with
 * statistics (or has none) this way, so such a step is always the last of its session run.
 */
export function runSplits(stepSizes: readonly (number | string)[], stepsPerRun: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i < stepSizes.length;) {
    let same = 1;
    while (same < stepsPerRun && i + same < stepSizes.length && stepSizes[i + same] === stepSizes[i]) same++;
    const count = same === stepsPerRun ? stepsPerRun : 2 ** Math.floor(Math.log2(same));
    counts.push(count);
    i += count;
  }
  return counts;
}

/** The default steps per run for a step graph (see OnnxTrainerOptions.stepsPerRun). */
function defaultStepsPerRun(graph: TrainStepGraph): number {
  const floats = [...graph.params, ...graph.buffers, ...graph.state].reduce((n, slot) => n + slot.shape.reduce((a, d) => a * d, 1), 0);
  const wanted = Math.max(MIN_STEPS_PER_RUN, Math.ceil((4 * floats) / STATE_BYTES_PER_STEP));
  return Math.max(1, Math.floor(Math.min(wanted, MAX_STEPS_PER_RUN, NODE_BUDGET / graph.nodes)));
}

/**
 * A batch tensor: data with its shape (batch first); an engine Tensor fits. Integer
 * inputs and class-id labels may come as Int32Array (the engine's int64 storage).
 */
export interface BatchTensor {
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  shape: readonly number[];
}

/** One training batch: the model inputs (one tensor per model input) and the labels. */
export interface TrainingBatch {
  inputs: BatchTensor | BatchTensor[];
  labels: BatchTensor;
}

export interface OnnxStepResult {
  loss: number;
  /** Per-parameter gradient statistics of this step (empty when stats are off or not due). */
  params: ParamGradStats[];
  /** The outputs of the model's activation ops on this step (empty when `params` is). */
  activations: OnnxActivationOutput[];
}

/** An activation op's output [batch, ...units] on a step, for its statistics (core/stats.ts `activationStats`). */
export interface OnnxActivationOutput {
  node: IrNode;
  output: Float32Array;
  batch: number;
}

/**
 * 'extended' rather than 'all': the NCHWc layout rewrites of 'all' made the step slower
 * (CNN 0.91×, LeNet 0.95×, MLP 0.95×, Net 1.0× the time per step with 'extended', measured
 * in one process) and the session slower to create.
 */
function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'extended',
  };
}

function toOrt(t: BatchTensor, slot: DataSlot): ort.Tensor {
  const source = t.data;
  if (slot.dtype === 'int64') {
    const data = source instanceof BigInt64Array ? source : BigInt64Array.from(source as ArrayLike<number>, (v) => BigInt(Math.round(v)));
    return new ort.Tensor('int64', data, [...t.shape]);
  }
  const data = source instanceof Float32Array ? source : Float32Array.from(source as ArrayLike<number>, Number);
  return new ort.Tensor('float32', data, [...t.shape]);
}

/** A step graph and the session that runs it. */
interface StepRunner {
  graph: TrainStepGraph;
  session: ort.InferenceSession;
}

/** The dims of a micro-batch's slots bound to its inputs' sizes. */
function batchDims(slots: StepBatchSlots, inputs: readonly BatchTensor[]): DimBinding {
  const dims = new DimBinding();
  slots.data.forEach((slot, j) => dims.match(slot.dims.map((d) => Dim.from(d)), inputs[j].shape.map((n) => Dim.of(n))));
  return dims;
}

/** Which step graph to build: steps per run, micro-batches per step and which steps compute the statistics. */
interface RunnerKind {
  steps: number;
  micro: number;
  stats: 'none' | 'every' | 'last';
}

export class OnnxTrainer {
  /** The current values of the parameters, buffers and optimizer state (fed next run). */
  private tensors = new Map<string, ort.Tensor>();
  /** The tensors the last `run` started from (session outputs are fresh buffers, so keeping these costs no copy). */
  private beforeLastRun = new Map<string, ort.Tensor>();
  private stepCount = 0;
  private forwardSession: ort.InferenceSession | null = null;
  private forwardGraph: ForwardGraph | null = null;
  /** Step graphs by `steps/stats`, built on first use. */
  private readonly runners = new Map<string, Promise<StepRunner>>();
  /** `activationShapes` by input sizes. */
  private readonly activationSizes = new Map<string, number[][]>();

  private constructor(
    private readonly model: ModelIR,
    private readonly fns: ReadonlyMap<string, FnIR>,
    private readonly train: Pick<TrainIR, 'loss' | 'lossArgs' | 'lossWeight' | 'optimizer' | 'controls'>,
    /** The one-step graph with statistics (when on): names the parameter, buffer and state slots. */
    private readonly graph: TrainStepGraph,
    private readonly threads: number,
    private readonly options: { stats: boolean; statsEvery: number; statsSampled: boolean; dropout: boolean; seed: number; stepsPerRun: number; learningRate: ((step: number) => number) | null },
  ) {}

  /** What every step graph of a run shares: dropout, the loss's arguments, the rate input and clipping. */
  private static graphOptions(train: Pick<TrainIR, 'lossArgs' | 'lossWeight' | 'controls'>, dropout: boolean, scheduledLr: boolean): Omit<TrainStepOptions, 'stats'> {
    const controls = train.controls;
    return { dropout, lossArgs: train.lossArgs, lossWeight: train.lossWeight, scheduledLr, clipGradNorm: controls?.clipGradNorm ?? null, clipGradValue: controls?.clipGradValue ?? null, frozen: controls?.frozen ?? [], noDecay: controls?.noDecay ?? [] };
  }

  /** The one-step graph a trainer of these settings starts from (its size sets the default steps per run). */
  private static oneStepGraph(model: ModelIR, fns: ReadonlyMap<string, FnIR>, train: Pick<TrainIR, 'loss' | 'lossArgs' | 'lossWeight' | 'optimizer' | 'controls'>, options: OnnxTrainerOptions): TrainStepGraph {
    return buildTrainStep(model, fns, train.loss, train.optimizer, { stats: options.stats ?? true, ...OnnxTrainer.graphOptions(train, options.dropout ?? true, options.learningRate !== undefined) });
  }

  /**
   * The steps per session run a trainer created with these arguments takes, without creating
   * it (the run layer samples the statistics of the TS engine at the same steps).
   */
  static stepsPerRunFor(model: ModelIR, fns: ReadonlyMap<string, FnIR>, train: Pick<TrainIR, 'loss' | 'lossArgs' | 'lossWeight' | 'optimizer' | 'controls'>, options: OnnxTrainerOptions = {}): number {
    return Math.max(1, Math.floor(options.stepsPerRun ?? defaultStepsPerRun(OnnxTrainer.oneStepGraph(model, fns, train, options))));
  }

  /**
   * Builds the one-step graph and its session. `initial` holds every parameter and buffer
   * by state_dict name (optimizer state starts at zero, as in PyTorch).
   */
  static async create(
    model: ModelIR,
    fns: ReadonlyMap<string, FnIR>,
    train: Pick<TrainIR, 'loss' | 'lossArgs' | 'lossWeight' | 'optimizer' | 'controls'>,
    initial: ReadonlyMap<string, Float32Array>,
    options: OnnxTrainerOptions = {},
  ): Promise<OnnxTrainer> {
    const settings = {
      stats: options.stats ?? true,
      statsEvery: Math.max(1, Math.floor(options.statsEvery ?? 1)),
      statsSampled: options.statsAt === 'sampled',
      dropout: options.dropout ?? true,
      seed: options.seed ?? 0,
      stepsPerRun: 1,
      learningRate: options.learningRate ?? null,
    };
    const graph = OnnxTrainer.oneStepGraph(model, fns, train, options);
    settings.stepsPerRun = Math.max(1, Math.floor(options.stepsPerRun ?? defaultStepsPerRun(graph)));
    const threads = resolveThreads(options.threads);
    const trainer = new OnnxTrainer(model, fns, train, graph, threads, settings);
    const kind: RunnerKind = { steps: 1, micro: 1, stats: settings.stats ? 'every' : 'none' };
    trainer.runners.set(OnnxTrainer.key(kind), ort.InferenceSession.create(graph.bytes, sessionOptions(threads)).then((session) => ({ graph, session })));
    await trainer.runner(kind);
    for (const slot of [...graph.params, ...graph.buffers]) {
      const data = initial.get(slot.name);
      if (!data) throw new Error(`no initial value for '${slot.name}'`);
      const size = slot.shape.reduce((a, n) => a * n, 1);
      if (data.length !== size) throw new Error(`'${slot.name}' has ${data.length} values, expected ${size} for [${slot.shape.join(', ')}]`);
      trainer.tensors.set(slot.name, new ort.Tensor('float32', Float32Array.from(data), slot.shape));
    }
    for (const slot of graph.state) {
      const size = slot.shape.reduce((a, n) => a * n, 1);
      trainer.tensors.set(slot.name, new ort.Tensor('float32', new Float32Array(size), slot.shape));
    }
    return trainer;
  }

  private static key(kind: RunnerKind): string {
    return `${kind.steps}/${kind.micro}/${kind.stats}`;
  }

  private runner(kind: RunnerKind): Promise<StepRunner> {
    const key = OnnxTrainer.key(kind);
    let runner = this.runners.get(key);
    if (!runner) {
      const stats = { stats: kind.stats !== 'none', statsOn: kind.stats === 'last' ? 'last' as const : 'every' as const };
      const graph = buildTrainStep(this.model, this.fns, this.train.loss, this.train.optimizer, { steps: kind.steps, micro: kind.micro, ...stats, ...OnnxTrainer.graphOptions(this.train, this.options.dropout, this.options.learningRate !== null) });
      runner = ort.InferenceSession.create(graph.bytes, sessionOptions(this.threads)).then((session) => ({ graph, session }));
      this.runners.set(key, runner);
    }
    return runner;
  }

  /** Which steps of `count` starting at step `first` (1-based) report statistics; `sampledLast`: the caller samples the last. */
  private statsDue(first: number, count: number, sampledLast: boolean): boolean[] {
    const { stats, statsEvery, statsSampled } = this.options;
    return Array.from({ length: count }, (_, i) => stats && (statsSampled ? sampledLast && i === count - 1 : first + i === 1 || (first + i) % statsEvery === 0));
  }

  /** `count` steps from the next one as pieces that each end at a step with statistics, or have none. */
  private statsPieces(count: number, sampledLast: boolean): number[] {
    const due = this.statsDue(this.stepCount + 1, count, sampledLast);
    const pieces: number[] = [];
    let start = 0;
    due.forEach((d, i) => {
      if (d || i === count - 1) {
        pieces.push(i + 1 - start);
        start = i + 1;
      }
    });
    return pieces;
  }

  /** The graph for a run of steps of `micro` micro-batches: statistics on every step, on the last only, or on none. */
  private static kindFor(due: readonly boolean[], micro: number): RunnerKind {
    const steps = due.length;
    if (!due.some(Boolean)) return { steps, micro, stats: 'none' };
    return { steps, micro, stats: steps > 1 && due.filter(Boolean).length === 1 && due[steps - 1] ? 'last' : 'every' };
  }

  /**
   * One training step on a batch; updates parameters, buffers and optimizer state. The
   * statistics are empty on steps that skip them (see `statsEvery`).
   */
  async step(inputs: BatchTensor | BatchTensor[], labels: BatchTensor): Promise<OnnxStepResult> {
    const [result] = await this.runSteps([[{ inputs, labels }]], true);
    return result;
  }

  /**
   * Training steps on `batches` in order (a step's batch, or its micro-batches whose mean
   * gradient makes the step), in as few session runs as the step graphs allow (`runSplits`)
   * with each step that has statistics the last of its run. With `statsAt: 'sampled'`,
   * `sampledLast` asks for the statistics of the last step.
   */
  async run(batches: readonly (TrainingBatch | readonly TrainingBatch[])[], sampledLast = false): Promise<OnnxStepResult[]> {
    const steps = batches.map((b) => (Array.isArray(b) ? b : [b]) as readonly TrainingBatch[]);
    const sizes = (step: readonly TrainingBatch[]): string => step.map((b) => b.labels.shape[0]).join(',');
    const results: OnnxStepResult[] = [];
    this.beforeLastRun = new Map(this.tensors);
    let i = 0;
    for (const piece of this.statsPieces(steps.length, sampledLast)) {
      for (const count of runSplits(steps.slice(i, i + piece).map(sizes), this.options.stepsPerRun)) {
        results.push(...await this.runSteps(steps.slice(i, i + count), sampledLast && i + count === steps.length));
        i += count;
      }
    }
    return results;
  }

  /** One session run over `steps` (of one batch size and micro-batch count), through the graph unrolled that many times. */
  private async runSteps(steps: readonly (readonly TrainingBatch[])[], sampledLast: boolean): Promise<OnnxStepResult[]> {
    const first = this.stepCount + 1;
    const due = this.statsDue(first, steps.length, sampledLast);
    const micro = steps[0].length;
    const kind = OnnxTrainer.kindFor(due, micro);
    const { graph, session } = await this.runner(kind);
    const feeds: Record<string, ort.Tensor> = {};
    const accumulate = this.train.controls?.accumulate ?? 1;
    steps.forEach((parts, i) => parts.forEach(({ inputs, labels }, j) => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const slots = graph.batches[i * micro + j];
      slots.data.forEach((slot, n) => { feeds[slot.name] = toOrt(list[n], slot); });
      feeds[slots.labels.name] = toOrt(labels, slots.labels);
      // One dropout stream per micro-batch, as the TS engine draws them (run/backends.ts).
      if (slots.masks.length > 0) Object.assign(feeds, this.masks(slots, list, (first + i - 1) * accumulate + j));
    }));
    for (const [name, tensor] of this.tensors) feeds[name] = tensor;
    feeds[graph.stepInput] = new ort.Tensor('float32', Float32Array.of(first), []);
    const learningRate = this.options.learningRate;
    if (graph.lrInputs && learningRate) graph.lrInputs.forEach((name, i) => { feeds[name] = new ort.Tensor('float32', Float32Array.of(learningRate(first + i)), []); });
    const updated = [...this.tensors.keys()].filter((name) => !graph.frozen.has(name));
    const fetches = [graph.lossOutput, ...graph.statsOutputs.map((o) => o.name), ...updated.map((name) => NEXT_PREFIX + name)];
    const out = await session.run(feeds, fetches);
    for (const name of updated) this.tensors.set(name, out[NEXT_PREFIX + name]);
    this.stepCount += steps.length;
    const losses = out[graph.lossOutput].data as Float32Array;
    const block = (i: number): number => (kind.stats === 'last' ? 0 : i);
    return steps.map((_, i) => {
      const stats = due[i] ? graph.statsOutputs[block(i)] : undefined;
      if (!stats) return { loss: losses[i], params: [], activations: [] };
      const last = steps[i][micro - 1].inputs;
      const weights = stats.weights?.map((name) => out[name].data as Float32Array);
      return { loss: losses[i], ...this.readStats(graph, stats, out[stats.name].data as Float32Array, weights, Array.isArray(last) ? last : [last]) };
    });
  }

  /** The dropout masks of a micro-batch, from the run's dropout stream `stream` (a step's, without accumulation: its number − 1). */
  private masks(slots: StepBatchSlots, inputs: readonly BatchTensor[], stream: number): Record<string, ort.Tensor> {
    const dims = batchDims(slots, inputs);
    const rng = streamRng(this.options.seed, 'dropout', stream);
    const feeds: Record<string, ort.Tensor> = {};
    for (const mask of slots.masks) {
      const shape = dims.resolveShape(mask.shape).map(sizeOf);
      const values = new Float32Array(shape.reduce((a, n) => a * n, 1));
      fillDropoutMask(values, mask.p, rng);
      feeds[mask.name] = new ort.Tensor('float32', values, shape);
    }
    return feeds;
  }

  /**
   * A step's statistics from its stats output (see `StepStatsOutput`; `nextWeights`: the new
   * weights when it does not hold them): each trained parameter's as the TS engine computes
   * them, and its activation ops' outputs, which the caller names and reduces (core/stats.ts);
   * `inputs` are the inputs of the step's (last) micro-batch, which size the activations.
   */
  private readStats(graph: TrainStepGraph, stats: StepStatsOutput, values: Float32Array, nextWeights: Float32Array[] | undefined, inputs: readonly BatchTensor[]): Pick<OnnxStepResult, 'params' | 'activations'> {
    let offset = 0;
    const take = (size: number): Float32Array => values.subarray(offset, (offset += size));
    const sizes = graph.trained.map((p) => p.shape.reduce((a, n) => a * n, 1));
    const [grads, deltas] = [sizes.map(take), sizes.map(take)];
    const weights = nextWeights ?? sizes.map(take);
    const params = graph.trained.map((p, i) => paramGradStats(p.name, this.layerOf(p.name), grads[i], weights[i], l2Norm(deltas[i])));
    const activations = this.activationShapes(graph, stats, inputs).map((shape, i) => ({ node: graph.activations[i], output: take(shape.reduce((a, n) => a * n, 1)), batch: shape[0] }));
    return { params, activations };
  }

  /** The layer a parameter belongs to, by state_dict name. */
  private layerOf(name: string): string {
    return this.model.params.find((q) => q.name === name)?.layer ?? name;
  }

  /**
   * The activation outputs' sizes for these input sizes, which alone decide them (bound once
   * per input size: symbolic algebra is slow next to a small step).
   */
  private activationShapes(graph: TrainStepGraph, stats: StepStatsOutput, inputs: readonly BatchTensor[]): number[][] {
    const key = inputs.map((t) => t.shape.join('x')).join(',');
    let shapes = this.activationSizes.get(key);
    if (!shapes) {
      const dims = batchDims(graph.batches[stats.batch], inputs);
      shapes = stats.activationShapes.map((shape) => dims.resolveShape(shape).map(sizeOf));
      this.activationSizes.set(key, shapes);
    }
    return shapes;
  }

  /**
   * Copies of the current parameters and buffers by state_dict name; with `beforeLastRun`,
   * those the last `run` started from (to replay its steps on the TS engine).
   */
  params(beforeLastRun = false): Map<string, Float32Array> {
    const tensors = beforeLastRun ? this.beforeLastRun : this.tensors;
    return new Map([...this.graph.params, ...this.graph.buffers].map((s) => [s.name, Float32Array.from(tensors.get(s.name)?.data as Float32Array)]));
  }

  /** Copies of the optimizer state by `<param>.<key>` name, as PyTorch keeps it (now, or before the last run). */
  optimizerState(beforeLastRun = false): Map<string, Float32Array> {
    const tensors = beforeLastRun ? this.beforeLastRun : this.tensors;
    return new Map(this.graph.state.map((s) => {
      const values = Float32Array.from(tensors.get(s.name)?.data as Float32Array);
      if (s.scale !== 1) for (let i = 0; i < values.length; i++) values[i] /= s.scale;
      return [s.name, values];
    }));
  }

  /**
   * Continues from a checkpoint: optimizer state tensors by `<param>.<key>` name (missing
   * ones stay zero) and the number of steps already taken (Adam's bias correction).
   */
  restoreOptimizer(state: ReadonlyMap<string, Float32Array>, steps: number): void {
    for (const slot of this.graph.state) {
      const values = state.get(slot.name);
      const target = this.tensors.get(slot.name)?.data as Float32Array;
      if (values && values.length === target.length) for (let i = 0; i < values.length; i++) target[i] = values[i] * slot.scale;
    }
    this.stepCount = steps;
  }

  get steps(): number {
    return this.stepCount;
  }

  /** How many batches `run` takes per session run when it has that many of one size. */
  get stepsPerRun(): number {
    return this.options.stepsPerRun;
  }

  /** The model's output in eval mode with the current weights (test loss and accuracy). */
  async forward(inputs: BatchTensor | BatchTensor[]): Promise<{ data: Float32Array; shape: number[] }> {
    if (!this.forwardSession) {
      this.forwardGraph = buildForward(this.model, this.fns);
      this.forwardSession = await ort.InferenceSession.create(this.forwardGraph.bytes, sessionOptions(this.threads));
    }
    const graph = this.forwardGraph as ForwardGraph;
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const feeds: Record<string, ort.Tensor> = {};
    graph.data.forEach((slot, i) => { feeds[slot.name] = toOrt(list[i], slot); });
    for (const w of graph.weights) feeds[w.name] = this.tensors.get(w.name) as ort.Tensor;
    const out = await this.forwardSession.run(feeds);
    return { data: out[graph.output].data as Float32Array, shape: [...out[graph.output].dims] };
  }

  async release(): Promise<void> {
    for (const runner of this.runners.values()) await (await runner).session.release();
    if (this.forwardSession) await this.forwardSession.release();
  }
}
