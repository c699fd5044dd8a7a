// The training loop: seeded shuffling, batches, epochs, evaluation each epoch (evaluate.ts), run events,
// gradient-flow findings, NaN/Inf detection (NN5004), checkpoints and exact resumption, and
// cancellation through an AbortSignal (the run stops after the current back-end run and saves).
// A plain async function, so the CLI runs it in-process and the language server in a worker.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TextRange } from '../lang/api.js';
import { formatMessage } from '../lang/diagnostics.js';
import { chooseBackend } from './backendChoice.js';
import { stateKeys } from '../backend-onnx/optimizer.js';
import type { EvaluatedOn, Finding, RunEvent } from '../core/events.js';
import { onnxBackend, runLearningRate, stepSamples, tsBackend, type StepOutcome, type TrainingBackend } from './backends.js';
import { BEST_FILE, CHECKPOINT_FILE, RUN_LOG_FILE, loadCheckpoint, loadWeights, saveCheckpoint, saveWeights, type OptimizerBuffers, type OptimizerState, type RunPosition } from './checkpoint.js';
import { batchCount, epochOrder, makeBatch, type BatchLayout } from '../core/batches.js';
import { classNames, evaluate, sampleClasses, trainAccuracyOrder } from './evaluate.js';
import { FindingTracker } from './findings.js';
import { LossTracker } from './lossFindings.js';
import { inputScaleFindings, INPUT_BATCHES } from './inputFindings.js';
import { UpdateRatioTracker } from './updateFindings.js';
import { layerGradStats, sampledBatch } from '../core/stats.js';
import { fetchTrainData, isRunError, prepare, type FetchOptions, type Prepared, type PrepareOptions, type RunError } from './prepare.js';
import { RunLog } from './runlog.js';
import { resolveThreads } from '../kernels/threads.js';
import { setKernelThreads } from '../kernels/pool.js';

export interface TrainOptions extends PrepareOptions, FetchOptions {
  /** Total epochs (the `train` block's `epochs` by default). */
  epochs?: number;
  /** Where checkpoints and the run log go (the `train` block's `save`, relative to baseDir, by default). */
  saveDir?: string;
  /** A .safetensors file of initial weights, matched by parameter name. */
  init?: string;
  /** A folder holding a checkpoint to continue; the run saves there too. */
  resume?: string;
  /** Overrides the `train` block's `backend`. */
  backend?: 'ts' | 'onnx' | 'auto';
  /** Threads for onnxruntime or the TS engine's kernels (`nn.threads`, `--threads`); 0 or absent: every core. */
  threads?: number;
  signal?: AbortSignal;
}

export type EndEvent = Extract<RunEvent, { type: 'end' }>;

/** The split evaluated after each epoch, as the run's events name it. */
export function evaluatedSplit(prepared: Prepared): EvaluatedOn {
  return prepared.evalSplit === null ? 'train' : prepared.evalSplit === prepared.data.test ? 'test' : 'validation';
}

export function batchLayout(prepared: Prepared): BatchLayout {
  const inputValue = prepared.model.graph.values[prepared.model.graph.inputs[0]];
  const floatDtype = prepared.lowered.params[0]?.tensor.dtype === 'float64' ? 'float64' : 'float32';
  return {
    sampleShape: prepared.data.sampleShape,
    labelShape: prepared.data.labelShape,
    target: prepared.target,
    inputDtype: inputValue.dtype === 'int64' ? 'int64' : floatDtype,
  };
}

/** The range a layer's findings point at: its declaration. */
export function layerRanges(prepared: Prepared): (layer: string) => TextRange {
  const ranges = new Map<string, TextRange>();
  for (const p of prepared.lowered.params) if (!ranges.has(p.layer)) ranges.set(p.layer, p.info.range);
  return (layer) => ranges.get(layer) ?? prepared.train.range;
}

/**
 * The back end a run uses: `ts` when asked, otherwise the ONNX path when it can lower the
 * model; `auto` falls back to `ts` and says why.
 */
async function chooseTrainingBackend(prepared: Prepared, requested: 'ts' | 'onnx' | 'auto', threads: number, totalSteps: number): Promise<{ backend: TrainingBackend; note: string | null } | RunError> {
  const spec = prepared.train;
  const range = spec.keyRanges.backend ?? spec.range;
  if (requested === 'ts') return { backend: tsBackend(prepared, threads, totalSteps), note: null };
  const choice = chooseBackend(prepared.model, prepared.check.fnIrs, { ...spec, backend: requested });
  if ('error' in choice) return { code: 'NN4002', message: choice.error, range };
  if (choice.backend === 'ts') return { backend: tsBackend(prepared, threads, totalSteps), note: choice.reason };
  try {
    return { backend: await onnxBackend(prepared, threads, totalSteps), note: null };
  } catch (error) {
    const why = (error as Error).message;
    if (requested === 'onnx') return { code: 'NN4002', message: formatMessage('NN4002/onnxStart', ['backend', why]), range };
    return { backend: tsBackend(prepared, threads, totalSteps), note: `onnxruntime could not start: ${why}; training on the TS engine` };
  }
}

/**
 * Trains the model of a `train` block. Returns the errors that prevent a run (the file does
 * not check, a data or weights file is bad), or the run's end event.
 */
export async function train(text: string, options: TrainOptions, onEvent: (event: RunEvent) => void): Promise<{ errors: RunError[] } | { end: EndEvent }> {
  // The TS engine's kernel threads are set before the model is lowered, so that its
  // parameters are allocated where the threads share them; the ONNX path turns them off.
  setKernelThreads(resolveThreads(options.threads));
  try {
    return await runTraining(text, options, onEvent);
  } finally {
    setKernelThreads(1);
  }
}

async function runTraining(text: string, options: TrainOptions, onEvent: (event: RunEvent) => void): Promise<{ errors: RunError[] } | { end: EndEvent }> {
  const started = Date.now();
  const fetched = await fetchTrainData(text, options);
  if ('errors' in fetched) return fetched;
  const prepared = prepare(text, { ...options, check: fetched.check });
  if (Array.isArray(prepared)) return { errors: prepared };
  const { train: spec, lowered, trainSplit, evalSplit } = prepared;
  const params = lowered.params.map((p) => ({ name: p.name, tensor: p.tensor }));
  const saveDir = options.resume ?? options.saveDir ?? resolve(options.baseDir, spec.save);
  const checkpointPath = join(saveDir, CHECKPOINT_FILE);
  const fileError = (message: string): { errors: RunError[] } => ({ errors: [{ code: 'NN4005', message, range: spec.range }] });

  if (options.init) {
    const problem = loadWeights(options.init, params, lowered.buffers);
    if (problem) return fileError(`--init ${options.init}: ${problem.error}`);
  }
  // A checkpoint is read before the back end starts: the ONNX trainer takes its weights then.
  let position: RunPosition = { step: 0, epoch: 0, batch: 0, epochLossSum: 0, epochBatches: 0 };
  let resumed: { state: OptimizerBuffers; steps: number } | null = null;
  if (options.resume) {
    const state: OptimizerBuffers = Object.fromEntries(stateKeys(spec.optimizer).map((key) => [key, []]));
    const saved: OptimizerState = { stepCount: 0, state: () => state };
    const loaded = loadCheckpoint(checkpointPath, { model: lowered.name, seed: spec.seed, params, buffers: lowered.buffers, optimizer: saved, optimizerKind: spec.optimizer.kind });
    if ('error' in loaded) return fileError(`--resume ${checkpointPath}: ${loaded.error}`);
    position = loaded;
    resumed = { state, steps: saved.stepCount };
  }
  const epochs = options.epochs ?? spec.epochs;
  const stepSize = stepSamples(spec);
  const stepsPerEpoch = batchCount(trainSplit.count, stepSize);
  const chosen = await chooseTrainingBackend(prepared, options.backend ?? spec.backend, resolveThreads(options.threads), epochs * stepsPerEpoch);
  if (isRunError(chosen)) return { errors: [chosen] };
  const { backend, note } = chosen;
  if (backend.kind === 'onnx') setKernelThreads(1);
  if (resumed) backend.restoreOptimizer(resumed.state, resumed.steps);
  mkdirSync(saveDir, { recursive: true });
  const log = new RunLog(join(saveDir, RUN_LOG_FILE), options.resume !== undefined);
  const emit = (event: RunEvent): void => {
    log.write(event);
    onEvent(event);
  };

  const layout = batchLayout(prepared);
  const paramCount = lowered.params.reduce((n, p) => n + p.tensor.size, 0);
  emit({
    type: 'start',
    model: lowered.name,
    backend: backend.kind,
    threads: backend.threads,
    epochs,
    stepsPerEpoch,
    params: paramCount,
    ...(options.resume ? { resumedFrom: position.step } : {}),
    ...(note ? { note } : {}),
    ...(sampleClasses(layout.target, prepared.data) === null ? {} : { classNames: classNames(prepared.data) }),
  });

  const tracker = new FindingTracker(layerRanges(prepared));
  const inputName = prepared.model.graph.values[prepared.model.graph.inputs[0]]?.name ?? 'input';
  const matrices = new Set(lowered.params.filter((p) => p.tensor.shape.length >= 2).map((p) => p.name));
  const updates = new UpdateRatioTracker(spec, matrices, layerRanges(prepared), runLearningRate(spec, epochs * stepsPerEpoch), (code, layer) => tracker.hasReported(code, layer));
  const evaluatedOn = evaluatedSplit(prepared);
  const bestPath = join(saveDir, BEST_FILE);
  const losses = new LossTracker(spec, evaluatedOn, bestPath);
  const findings: Finding[] = [];
  const report = (finding: Finding): void => {
    findings.push(finding);
    emit({ type: 'finding', finding });
  };
  let lastCheckpoint: string | null = options.resume ? checkpointPath : null;
  const save = (path = checkpointPath): void => {
    backend.sync();
    saveCheckpoint(path, { model: lowered.name, seed: spec.seed, params, buffers: lowered.buffers, optimizer: backend.optimizer, optimizerKind: spec.optimizer.kind, position });
    if (path !== checkpointPath) return;
    lastCheckpoint = checkpointPath;
    emit({ type: 'checkpoint', step: position.step, path: checkpointPath });
  };
  // Early stopping: the best evaluation loss so far, kept as its own checkpoint.
  const patience = spec.controls?.earlyStopping ?? null;
  let best: EndEvent['best'] = undefined;

  // The input's scale, from the batches the run starts with, before any step.
  const firstOrder = epochOrder(trainSplit.count, spec.seed, position.epoch, true);
  const firstBatches = Array.from({ length: Math.min(INPUT_BATCHES, stepsPerEpoch - position.batch) }, (_, i) => makeBatch(trainSplit, firstOrder, (position.batch + i) * spec.batch, spec.batch, layout));
  for (const finding of inputScaleFindings(spec, inputName, firstBatches, position.step + 1)) report(finding);

  let reason: EndEvent['reason'] = 'done';
  let lastFinite: { outcome: Exclude<StepOutcome, { nan: Finding }>; sampled: boolean } | null = null;
  let testAccuracy: number | null = null;
  let { step } = position;
  try {
    training: for (let epoch = position.epoch; epoch < epochs; epoch++) {
      const order = epochOrder(trainSplit.count, spec.seed, epoch, true);
      const firstBatch = epoch === position.epoch ? position.batch : 0;
      let { epochLossSum, epochBatches } = epoch === position.epoch ? position : { epochLossSum: 0, epochBatches: 0 };
      const epochStarted = Date.now();
      let samples = 0;
      for (let b = firstBatch; b < stepsPerEpoch;) {
        // The back end takes several batches per run (the ONNX path); events stay per step. A
        // batch is an optimizer step's samples: `accumulate` micro-batches of `batch`.
        // Up to the next sampled batch at most, so that it ends a session run of the ONNX path.
        const count = Math.min(backend.stepsPerRun, stepsPerEpoch - b, backend.statsRun - (b % backend.statsRun));
        const batches = Array.from({ length: count }, (_, i) => makeBatch(trainSplit, order, (b + i) * stepSize, stepSize, layout));
        const outcomes = await backend.run(batches, step + 1, sampledBatch(b + count - 1, stepsPerEpoch, backend.statsRun));
        for (const [i, outcome] of outcomes.entries()) {
          if ('nan' in outcome) {
            // The last finite step explains the NaN best: judged as if sampled (both back ends
            // have its statistics, the ONNX path from its replay on the TS engine).
            if (lastFinite && !lastFinite.sampled && lastFinite.outcome.params.length > 0) {
              const { params, activations } = lastFinite.outcome;
              for (const finding of tracker.observe(step, layerGradStats(params), activations)) report(finding);
            }
            for (const finding of losses.observeNonFinite(step + 1)) report(finding);
            report(outcome.nan);
            reason = 'nan';
            break training;
          }
          step++;
          epochLossSum += outcome.loss;
          epochBatches++;
          samples += batches[i].size;
          const seconds = (Date.now() - epochStarted) / 1000;
          const layers = layerGradStats(outcome.params);
          emit({ type: 'step', epoch, step, loss: outcome.loss, samplesPerSec: seconds > 0 ? samples / seconds : 0, params: outcome.params, layers, activations: outcome.activations });
          // Gradient-flow rules judge the sampled steps only, the steps both back ends have statistics for.
          const sampled = sampledBatch(b, stepsPerEpoch, backend.statsRun);
          if (sampled) for (const finding of tracker.observe(step, layers, outcome.activations)) report(finding);
          for (const finding of losses.observeStep(step, outcome.loss, layers)) report(finding);
          if (sampled) for (const finding of updates.observe(step, outcome.params)) report(finding);
          lastFinite = { outcome, sampled };
          b++;
          position = { step, epoch, batch: b, epochLossSum, epochBatches };
        }
        await new Promise((done) => setImmediate(done)); // lets a cancellation arrive
        if (options.signal?.aborted) {
          save();
          reason = 'cancelled';
          break training;
        }
      }
      const evaluation = await evaluate(prepared, backend, evalSplit ?? trainSplit, layout, { details: true });
      const trainAccuracy = (await evaluate(prepared, backend, trainSplit, layout, { order: trainAccuracyOrder(trainSplit.count) })).accuracy;
      testAccuracy = evaluation.accuracy;
      const trainLoss = epochBatches > 0 ? epochLossSum / epochBatches : NaN;
      emit({
        type: 'epoch',
        epoch,
        step,
        trainLoss,
        testLoss: evaluation.loss,
        testAccuracy,
        evaluatedOn,
        trainAccuracy,
        ...(evaluation.confusion ? { confusion: evaluation.confusion } : {}),
        ...(evaluation.worst ? { worst: evaluation.worst } : {}),
      });
      const judged = losses.observeEpoch({ epoch, step, trainLoss, testLoss: evaluation.loss });
      if (judged.best) {
        backend.sync();
        saveWeights(bestPath, { model: lowered.name, params, buffers: lowered.buffers, epoch: epoch + 1, step, loss: evaluation.loss });
      }
      for (const finding of judged.findings) report(finding);
      position = { step, epoch: epoch + 1, batch: 0, epochLossSum: 0, epochBatches: 0 };
      save();
      if (patience !== null) {
        // The best epoch's weights are in bestPath already (written above on every new best).
        if (best === undefined || evaluation.loss < best.loss) best = { epoch, loss: evaluation.loss, path: bestPath }; else if (epoch - best.epoch >= patience && epoch + 1 < epochs) {
          reason = 'early_stop';
          break training;
        }
      }
    }
  } finally {
    await backend.release();
  }
  const end: EndEvent = { type: 'end', reason, step, testAccuracy, evaluatedOn, seconds: (Date.now() - started) / 1000, checkpoint: lastCheckpoint, ...(best ? { best } : {}), findings };
  emit(end);
  log.close();
  return { end };
}
