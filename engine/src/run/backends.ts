// The two ways training steps run: on the TS engine (forward, backward and update over
// engine tensors, with activation statistics and the first op of a NaN/Inf), or on
// onnxruntime through the ONNX path's trainer (several steps per session run; faster, with
// parameter and activation statistics on the last step of each run, and a NaN/Inf located by
// replaying its steps on the TS engine). The loop drives either; with `accumulate`, each step's
// batch splits into micro-batches whose gradients are averaged before the update.

import type { Finding, ActivationStats, ParamGradStats } from '../core/events.js';
import { Tensor } from '../tensor/tensor.js';
import { optimizerFromSpec } from '../optim/from-spec.js';
import type { FloatArray } from '../tensor/tensor.js';
import { createOnnxTrainer } from './backendChoice.js';
import { OnnxTrainer, type OnnxTrainerOptions } from '../backend-onnx/session.js';
import { OnnxUnsupported } from '../onnx/unsupported.js';
import type { Batch } from '../core/batches.js';
import { batchCount, microBatches, streamRng } from '../core/batches.js';
import type { OptimizerBuffers, OptimizerState } from './checkpoint.js';
import { nanFinding } from './findings.js';
import { NonFiniteError, nodeLabels } from '../backend-ts/lower.js';
import { lossOf } from '../backend-ts/objective.js';
import type { Prepared } from './prepare.js';
import { clipGradNorm, clipGradValue } from '../optim/clip.js';
import { hasSchedule, learningRate } from '../optim/schedule.js';
import { activationStats, differenceNorm, hasNonFinite, paramGradStats } from '../core/stats.js';
import { opDef } from '../ops/registry.js';

export type StepOutcome = { loss: number; params: ParamGradStats[]; activations: ActivationStats[] } | { nan: Finding };

export interface TrainingBackend {
  kind: 'ts' | 'onnx';
  /** Threads it computes on. */
  threads: number;
  /** How many batches `run` takes at once to go fastest (the loop may pass fewer). */
  stepsPerRun: number;
  /**
   * The steps per session run of the ONNX path for this model (1 when it does not lower):
   * the statistics that must agree between the back ends are those of the batches
   * `sampledBatch` names for it.
   */
  readonly statsRun: number;
  /**
   * One optimizer step per batch (of `stepSamples` samples: its micro-batches of `batch`), in
   * order; `firstStep` is the 1-based number of the first; `sampledLast`: the last is a sampled
   * step, whose statistics the findings read (the ONNX path computes them on it alone).
   * The outcomes end at the first NaN/Inf finding, if any.
   */
  run(batches: readonly Batch[], firstStep: number, sampledLast?: boolean): Promise<StepOutcome[]>;
  /** The model's output in eval mode (no dropout, batch norm running statistics), no tape. */
  evalOutput(input: Tensor): Promise<Tensor>;
  /** Brings the lowered model's parameters and buffers up to date (for a checkpoint). */
  sync(): void;
  optimizer: OptimizerState;
  /** Continues from a checkpoint's optimizer state and step count (the weights are already loaded). */
  restoreOptimizer(state: OptimizerBuffers, steps: number): void;
  release(): Promise<void>;
}

/** The learning rate of each 1-based step of a run of `totalSteps` steps, under the block's schedule. */
export function runLearningRate(spec: Prepared['train'], totalSteps: number): (step: number) => number {
  return (step) => learningRate(spec.controls, spec.optimizer.lr, step, totalSteps);
}

/** The samples of one optimizer step: `accumulate` micro-batches of `batch`. */
export function stepSamples(spec: Prepared['train']): number {
  return spec.batch * (spec.controls?.accumulate ?? 1);
}

/** The micro-batch `micro` of the 1-based step `step`'s dropout stream: one per micro-batch. */
export function dropoutStream(spec: Prepared['train'], step: number, micro: number): number {
  return (step - 1) * (spec.controls?.accumulate ?? 1) + micro;
}

/** The steps of a run of the block's epochs (a schedule's horizon when the caller gives none). */
function blockSteps(prepared: Prepared): number {
  return prepared.train.epochs * batchCount(prepared.trainSplit.count, stepSamples(prepared.train));
}

/**
 * The options the ONNX trainer of a run is created with (its steps per run follow from them).
 */
function onnxTrainerOptions(prepared: Prepared, threads: number, totalSteps: number): OnnxTrainerOptions & { fns: Prepared['check']['fnIrs'] } {
  const spec = prepared.train;
  return { fns: prepared.check.fnIrs, statsAt: 'sampled', seed: spec.seed, threads, ...(hasSchedule(spec.controls) ? { learningRate: runLearningRate(spec, totalSteps) } : {}) };
}

/** The steps per run the ONNX path would take for this run, without starting onnxruntime (1 when the model does not lower). */
function onnxStatsRun(prepared: Prepared, totalSteps: number): number {
  try {
    return OnnxTrainer.stepsPerRunFor(prepared.model, prepared.check.fnIrs, prepared.train, onnxTrainerOptions(prepared, 1, totalSteps));
  } catch (error) {
    if (error instanceof OnnxUnsupported) return 1;
    throw error;
  }
}

/** The TS back end; `totalSteps` is the run's step count (a schedule's horizon). */
export function tsBackend(prepared: Prepared, threads: number, totalSteps = blockSteps(prepared)): TrainingBackend {
  const { lowered, train: spec } = prepared;
  const tensors = lowered.params.map((p) => p.tensor);
  const noDecay = new Set(spec.controls?.noDecay ?? []);
  const optimizer = optimizerFromSpec(spec.optimizer, tensors, lowered.params.map((p) => noDecay.has(p.name)));
  // Frozen parameters stay in the optimizer's list (its state is indexed like the model's
  // parameters) but get no gradient, so its step leaves them as they are.
  const frozen = new Set(spec.controls?.frozen ?? []);
  for (const p of lowered.params) if (frozen.has(p.name)) p.tensor.requiresGrad = false;
  const trained = lowered.params.filter((p) => !frozen.has(p.name));
  const lrAt = runLearningRate(spec, totalSteps);
  const clipNorm = spec.controls?.clipGradNorm ?? null;
  const clipValue = spec.controls?.clipGradValue ?? null;
  const oneStep = async (batch: Batch, step: number): Promise<StepOutcome> => {
    const activations: ActivationStats[] = [];
    const micro = microBatches(batch, spec.batch);
    let lossSum = 0;
    optimizer.zeroGrad();
    for (const [j, part] of micro.entries()) {
      let loss: Tensor;
      try {
        // The activation statistics are the last micro-batch's.
        const mode = { dropout: true, batchNormTraining: true, rng: streamRng(spec.seed, 'dropout', dropoutStream(spec, step, j)), activations: j === micro.length - 1 ? activations : [], detectNonFinite: true };
        loss = lossOf(spec.loss, lowered.forward([part.input], mode), part.target, spec.lossArgs, spec.lossWeight);
      } catch (error) {
        if (!(error instanceof NonFiniteError)) throw error;
        const line = prepared.lineOf(error.node.range.start);
        return { nan: nanFinding(error.where, `the output of \`${error.node.op}\` (line ${line}) is the first value with a NaN or Inf, at step ${step}; training stopped`, error.node.range, step) };
      }
      const lossValue = loss.item();
      if (!Number.isFinite(lossValue)) return { nan: lossFinding(prepared, lossValue, step) };
      lossSum += lossValue;
      loss.backward();
    }
    const lossValue = lossSum / micro.length;
    // The gradients of the micro-batches summed into .grad; their mean, as (loss / n).backward() gives.
    if (micro.length > 1) for (const t of tensors) if (t.grad) for (let i = 0; i < t.grad.values.length; i++) t.grad.values[i] /= micro.length;
    const bad = lowered.params.find((p) => p.tensor.grad !== null && hasNonFinite(p.tensor.grad.data));
    if (bad) {
      const line = prepared.lineOf(bad.info.range.start);
      return { nan: nanFinding(bad.layer, `the gradient of \`${bad.name}\` (declared at line ${line}) has a NaN or Inf at step ${step}; training stopped`, bad.info.range, step) };
    }
    if (clipNorm !== null) clipGradNorm(tensors, clipNorm);
    if (clipValue !== null) clipGradValue(tensors, clipValue);
    const before = trained.map((p) => p.tensor.data.slice());
    optimizer.lr = lrAt(step);
    optimizer.step();
    const params = trained.map((p, i) =>
      paramGradStats(p.name, p.layer, p.tensor.grad?.data ?? new Float32Array(p.tensor.size), p.tensor.data, differenceNorm(p.tensor.data, before[i])),
    );
    return { loss: lossValue, params, activations };
  };
  let statsRun: number | null = null;
  return {
    kind: 'ts',
    threads,
    optimizer,
    stepsPerRun: 1,
    get statsRun() {
      return (statsRun ??= onnxStatsRun(prepared, totalSteps));
    },
    async run(batches, firstStep) {
      const outcomes: StepOutcome[] = [];
      for (const [i, batch] of batches.entries()) {
        const outcome = await oneStep(batch, firstStep + i);
        outcomes.push(outcome);
        if ('nan' in outcome) break;
      }
      return outcomes;
    },
    async evalOutput(input) {
      const mode = { dropout: false, batchNormTraining: false, rng: streamRng(0, 'dropout', 0), detectNonFinite: false };
      return lowered.forward([input], mode);
    },
    sync() {},
    restoreOptimizer(state, steps) {
      const own = optimizer.state();
      for (const [key, buffers] of Object.entries(state)) {
        buffers.forEach((buffer, i) => {
          if (buffer && own[key]) own[key][i] = buffer;
        });
      }
      optimizer.stepCount = steps;
    },
    async release() {},
  };
}

function lossFinding(prepared: Prepared, lossValue: number, step: number): Finding {
  const spec = prepared.train;
  return nanFinding('loss', `the ${spec.loss} loss is ${lossValue} at step ${step}; training stopped`, spec.keyRanges.loss ?? spec.range, step);
}

/** Optimizer state by `<param>.<key>` name (`fc1.weight.exp_avg`) as per-parameter buffers. */
function byParam(named: ReadonlyMap<string, Float32Array>, paramNames: readonly string[]): OptimizerBuffers {
  const out: Record<string, (FloatArray | undefined)[]> = {};
  for (const [name, values] of named) {
    const index = paramNames.findIndex((p) => name.startsWith(`${p}.`) && !name.slice(p.length + 1).includes('.'));
    if (index < 0) continue;
    const key = name.slice(paramNames[index].length + 1);
    (out[key] ??= [])[index] = values;
  }
  return out;
}

/** The ONNX trainer's optimizer state as per-parameter buffers. */
function onnxOptimizerState(trainer: OnnxTrainer, paramNames: readonly string[]): OptimizerState {
  return {
    get stepCount() {
      return trainer.steps;
    },
    state: () => byParam(trainer.optimizerState(), paramNames),
  };
}

/**
 * The ONNX path sees a NaN/Inf only in the loss; to name the op and its line as the TS engine
 * does, the session run's steps up to the failing one are replayed on the TS engine from the
 * weights, buffers and optimizer state that run started from, on the same batches. When the
 * replay does not reproduce it (float32 rounding differs), the loss finding stands. The replay
 * may find it a step earlier, in a gradient: the step it appeared in, where the run stops.
 * With it come the replay's outcomes of the steps before it in the session run, which have
 * the statistics the TS engine computes on every step (the loop judges the last of them).
 */
async function replayNonFinite(prepared: Prepared, trainer: OnnxTrainer, batches: readonly Batch[], runFirstStep: number, failing: number, lossValue: number): Promise<{ nan: Finding; before: StepOutcome[] }> {
  const { lowered } = prepared;
  const before = trainer.params(true);
  for (const { name, tensor } of [...lowered.params, ...lowered.buffers]) {
    const values = before.get(name);
    if (values) tensor.data.set(values);
  }
  const replay = tsBackend(prepared, 1);
  replay.restoreOptimizer(byParam(trainer.optimizerState(true), lowered.params.map((p) => p.name)), runFirstStep - 1);
  const outcomes = await replay.run(batches.slice(0, failing + 1), runFirstStep);
  // The replay stops at the first step with a NaN/Inf: the failing one, or an earlier one whose
  // gradient or update made it (on ONNX a NaN shows in the loss only a step later).
  const last = outcomes[outcomes.length - 1];
  if (last && 'nan' in last && last.nan.step <= runFirstStep + failing) return { nan: last.nan, before: outcomes.slice(0, -1) };
  return { nan: lossFinding(prepared, lossValue, runFirstStep + failing), before: [] };
}

/** The ONNX back end, starting from the lowered model's current weights. */
export async function onnxBackend(prepared: Prepared, threads: number, totalSteps = blockSteps(prepared)): Promise<TrainingBackend> {
  const { lowered, train: spec } = prepared;
  const initial = new Map<string, Float32Array>();
  for (const { name, tensor } of [...lowered.params, ...lowered.buffers]) initial.set(name, Float32Array.from(tensor.data));
  // A constant learning rate stays a constant of the step graph (folded into its Gemms).
  // Gradient statistics on the last step of each session run (every 32nd step on an MLP):
  // every step's would cost a third of the step time (bench/onnx/run.ts).
  const trainer = await createOnnxTrainer(prepared.model, spec, initial, onnxTrainerOptions(prepared, threads, totalSteps));
  const paramNames = lowered.params.map((p) => p.name);
  const labels = nodeLabels(prepared.model.graph, prepared.lineOf);
  return {
    kind: 'onnx',
    threads,
    optimizer: onnxOptimizerState(trainer, paramNames),
    stepsPerRun: trainer.stepsPerRun,
    statsRun: trainer.stepsPerRun,
    async run(batches, firstStep, sampledLast = false) {
      const results = await trainer.run(batches.map((b) => microBatches(b, spec.batch).map((m) => ({ inputs: m.input, labels: m.target }))), sampledLast);
      const outcomes: StepOutcome[] = [];
      for (const [i, result] of results.entries()) {
        if (!Number.isFinite(result.loss)) {
          const { nan, before } = await replayNonFinite(prepared, trainer, batches, firstStep, i, result.loss);
          // The steps before it as ONNX took them, the last with the replay's statistics.
          const finite = outcomes.slice(0, nan.step - firstStep);
          if (finite.length > 0 && before.length === finite.length) finite[finite.length - 1] = before[before.length - 1];
          return [...finite, { nan }];
        }
        const activations = result.activations.map(({ node, output, batch }) => activationStats(labels.get(node) ?? node.op, node.op, opDef(node.op)!.activation!, node.range, output, batch));
        outcomes.push({ loss: result.loss, params: result.params, activations });
      }
      return outcomes;
    },
    async evalOutput(input) {
      const out = await trainer.forward(input);
      return new Tensor(out.data, out.shape, 'float32');
    },
    sync() {
      const current = trainer.params();
      for (const { name, tensor } of [...lowered.params, ...lowered.buffers]) {
        const values = current.get(name);
        if (values) tensor.data.set(values);
      }
    },
    restoreOptimizer(state, steps) {
      const named = new Map<string, Float32Array>();
      for (const [key, buffers] of Object.entries(state)) {
        buffers.forEach((buffer, i) => {
          if (buffer) named.set(`${paramNames[i]}.${key}`, Float32Array.from(buffer));
        });
      }
      trainer.restoreOptimizer(named, steps);
    },
    release: () => trainer.release(),
  };
}
