// Runs training steps on onnxruntime-node: the step graph is built once per run and one
// InferenceSession serves every step (any batch size, through the symbolic batch dim).
// Parameters, buffers and optimizer state live in two preallocated sets of ORT tensors:
// each step feeds one set and has ORT write the updated values into the other, so no
// buffer is both fed and fetched and nothing is copied or allocated per step.

import * as ort from 'onnxruntime-node';
import type { FnIR, ModelIR, TrainIR } from '../lang/api.js';
import type { ParamGradStats } from '../train/events.js';
import { buildForward, buildTrainStep, NEXT_PREFIX, type DataSlot, type ForwardGraph, type TrainStepGraph } from './graphs.js';
import { gradStatsFromRaw } from './optimizer.js';

export interface OnnxTrainerOptions {
  /** onnxruntime intra-op threads; one was fastest on a 2-core machine. */
  threads?: number;
  /** Compute the per-parameter gradient statistics (default true). */
  stats?: boolean;
  /**
   * Compute the statistics on step 1 and every `statsEvery`-th step only (default 1: every
   * step). Steps without them run a second graph that skips the reductions.
   */
  statsEvery?: number;
  /** Apply dropout while training (default true; parity runs turn it off). */
  dropout?: boolean;
}

/**
 * A batch tensor: data with its shape (batch first); an engine Tensor fits. Integer
 * inputs and class-id labels may come as Int32Array (the engine's int64 storage).
 */
export interface BatchTensor {
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  shape: readonly number[];
}

export interface OnnxStepResult {
  loss: number;
  /** Per-parameter gradient statistics of this step (empty when stats are off). */
  params: ParamGradStats[];
}

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
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

export class OnnxTrainer {
  /** The current values (fed next step) and the spare set (written next step). */
  private tensors = new Map<string, ort.Tensor>();
  private spare = new Map<string, ort.Tensor>();
  private stepCount = 0;
  private forwardSession: ort.InferenceSession | null = null;
  private forwardGraph: ForwardGraph | null = null;

  private constructor(
    private readonly model: ModelIR,
    private readonly fns: ReadonlyMap<string, FnIR>,
    private readonly graph: TrainStepGraph,
    private readonly session: ort.InferenceSession,
    private readonly threads: number,
    /** The step graph without statistics, for the steps between statistics steps. */
    private readonly plain: { graph: TrainStepGraph; session: ort.InferenceSession; every: number } | null,
  ) {}

  /**
   * Builds the step graph and its session. `initial` holds every parameter and buffer by
   * state_dict name (optimizer state starts at zero, as in PyTorch).
   */
  static async create(
    model: ModelIR,
    fns: ReadonlyMap<string, FnIR>,
    train: Pick<TrainIR, 'loss' | 'optimizer'>,
    initial: ReadonlyMap<string, Float32Array>,
    options: OnnxTrainerOptions = {},
  ): Promise<OnnxTrainer> {
    const graph = buildTrainStep(model, fns, train.loss, train.optimizer, {
      stats: options.stats ?? true,
      dropout: options.dropout ?? true,
    });
    const threads = options.threads ?? 1;
    const session = await ort.InferenceSession.create(graph.bytes, sessionOptions(threads));
    const every = Math.max(1, Math.floor(options.statsEvery ?? 1));
    let plain = null;
    if (graph.statsOutput && every > 1) {
      const plainGraph = buildTrainStep(model, fns, train.loss, train.optimizer, { stats: false, dropout: options.dropout ?? true });
      plain = { graph: plainGraph, session: await ort.InferenceSession.create(plainGraph.bytes, sessionOptions(threads)), every };
    }
    const trainer = new OnnxTrainer(model, fns, graph, session, threads, plain);
    for (const slot of [...graph.params, ...graph.buffers]) {
      const data = initial.get(slot.name);
      if (!data) throw new Error(`no initial value for '${slot.name}'`);
      const size = slot.shape.reduce((a, n) => a * n, 1);
      if (data.length !== size) throw new Error(`'${slot.name}' has ${data.length} values, expected ${size} for [${slot.shape.join(', ')}]`);
      trainer.tensors.set(slot.name, new ort.Tensor('float32', Float32Array.from(data), slot.shape));
      trainer.spare.set(slot.name, new ort.Tensor('float32', new Float32Array(size), slot.shape));
    }
    for (const slot of graph.state) {
      const size = slot.shape.reduce((a, n) => a * n, 1);
      trainer.tensors.set(slot.name, new ort.Tensor('float32', new Float32Array(size), slot.shape));
      trainer.spare.set(slot.name, new ort.Tensor('float32', new Float32Array(size), slot.shape));
    }
    return trainer;
  }

  /**
   * One training step on a batch; updates parameters, buffers and optimizer state. The
   * statistics are empty on steps that skip them (see `statsEvery`).
   */
  async step(inputs: BatchTensor | BatchTensor[], labels: BatchTensor): Promise<OnnxStepResult> {
    this.stepCount += 1;
    const skipStats = this.plain !== null && this.stepCount !== 1 && this.stepCount % this.plain.every !== 0;
    const { graph, session } = skipStats && this.plain ? this.plain : { graph: this.graph, session: this.session };
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const feeds: Record<string, ort.Tensor> = {};
    graph.data.forEach((slot, i) => { feeds[slot.name] = toOrt(list[i], slot); });
    feeds[graph.labels.name] = toOrt(labels, graph.labels);
    for (const [name, tensor] of this.tensors) feeds[name] = tensor;
    feeds[graph.stepInput] = new ort.Tensor('float32', Float32Array.of(this.stepCount), []);
    const fetches: Record<string, ort.Tensor | null> = { [graph.lossOutput]: null };
    if (graph.statsOutput) fetches[graph.statsOutput] = null;
    for (const [name, tensor] of this.spare) fetches[NEXT_PREFIX + name] = tensor;
    const out = await session.run(feeds, fetches);
    [this.tensors, this.spare] = [this.spare, this.tensors];
    const loss = (out[graph.lossOutput].data as Float32Array)[0];
    return { loss, params: graph.statsOutput ? this.readStats(out[graph.statsOutput].data as Float32Array) : [] };
  }

  private readStats(raw: Float32Array): ParamGradStats[] {
    return this.graph.params.map((p, i) => {
      const info = this.model.params.find((q) => q.name === p.name);
      const size = p.shape.reduce((a, n) => a * n, 1);
      return { name: p.name, layer: info?.layer ?? p.name, ...gradStatsFromRaw(raw, i, size) };
    });
  }

  /** Copies of the current parameters and buffers by state_dict name. */
  params(): Map<string, Float32Array> {
    return this.copies([...this.graph.params, ...this.graph.buffers]);
  }

  /** Copies of the optimizer state by `<param>.<key>` name. */
  optimizerState(): Map<string, Float32Array> {
    return this.copies(this.graph.state);
  }

  private copies(slots: { name: string }[]): Map<string, Float32Array> {
    return new Map(slots.map((s) => [s.name, Float32Array.from(this.tensors.get(s.name)?.data as Float32Array)]));
  }

  /**
   * Continues from a checkpoint: optimizer state tensors by `<param>.<key>` name (missing
   * ones stay zero) and the number of steps already taken (Adam's bias correction).
   */
  restoreOptimizer(state: ReadonlyMap<string, Float32Array>, steps: number): void {
    for (const slot of this.graph.state) {
      const values = state.get(slot.name);
      const target = this.tensors.get(slot.name)?.data as Float32Array;
      if (values && values.length === target.length) target.set(values);
    }
    this.stepCount = steps;
  }

  get steps(): number {
    return this.stepCount;
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
    await this.session.release();
    if (this.plain) await this.plain.session.release();
    if (this.forwardSession) await this.forwardSession.release();
  }
}
