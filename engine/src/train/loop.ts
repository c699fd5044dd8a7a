// The training loop: seeded shuffling, batches, epochs, evaluation each epoch, run events,
// gradient-flow findings, NaN/Inf detection (NN5004), checkpoints and exact resumption, and
// cancellation through an AbortSignal (the run stops after the current step and saves).
// A plain async function, so the CLI runs it in-process and the language server in a worker.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TextRange } from '../lang/api.js';
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { optimizerFromSpec } from '../optim/from-spec.js';
import type { Split } from '../data/index.js';
import type { ActivationStats, Finding, ParamGradStats, RunEvent } from './events.js';
import { CHECKPOINT_FILE, RUN_LOG_FILE, loadCheckpoint, loadWeights, saveCheckpoint, type RunPosition } from './checkpoint.js';
import { batchCount, epochOrder, makeBatch, streamRng, type BatchLayout } from './batches.js';
import { FindingTracker, nanFinding } from './findings.js';
import { NonFiniteError, type LoweredModel } from './lower.js';
import { correctCount, lossOf, usesClassIds } from './objective.js';
import { prepare, type Prepared, type PrepareOptions, type RunError } from './prepare.js';
import { RunLog } from './runlog.js';
import { differenceNorm, hasNonFinite, paramGradStats } from './stats.js';

export interface TrainOptions extends PrepareOptions {
  /** Total epochs (the `train` block's `epochs` by default). */
  epochs?: number;
  /** Where checkpoints and the run log go (the `train` block's `save`, relative to baseDir, by default). */
  saveDir?: string;
  /** A .safetensors file of initial weights, matched by parameter name. */
  init?: string;
  /** A folder holding a checkpoint to continue; the run saves there too. */
  resume?: string;
  signal?: AbortSignal;
}

export type EndEvent = Extract<RunEvent, { type: 'end' }>;

/** Evaluation batch size: large, since evaluation keeps no tape. */
const EVAL_BATCH = 256;

export function batchLayout(prepared: Prepared): BatchLayout {
  const inputValue = prepared.model.graph.values[prepared.model.graph.inputs[0]];
  const floatDtype = prepared.lowered.params[0]?.tensor.dtype === 'float64' ? 'float64' : 'float32';
  return {
    sampleShape: prepared.data.sampleShape,
    labelShape: prepared.data.labelShape,
    classification: usesClassIds(prepared.train.loss),
    inputDtype: inputValue.dtype === 'int64' ? 'int64' : floatDtype,
  };
}

/** The range a layer's findings point at: its declaration. */
export function layerRanges(prepared: Prepared): (layer: string) => TextRange {
  const ranges = new Map<string, TextRange>();
  for (const p of prepared.lowered.params) if (!ranges.has(p.layer)) ranges.set(p.layer, p.info.range);
  return (layer) => ranges.get(layer) ?? prepared.train.range;
}

/** Mean loss and accuracy over a split, in eval mode (no dropout, batch norm running stats). */
export function evaluate(prepared: Prepared, split: Split, layout: BatchLayout): { loss: number; accuracy: number | null } {
  const order = epochOrder(split.count, 0, 0, false);
  let lossSum = 0;
  let correct: number | null = 0;
  noGrad(() => {
    for (let start = 0; start < split.count; start += EVAL_BATCH) {
      const batch = makeBatch(split, order, start, EVAL_BATCH, layout);
      const mode = { dropout: false, batchNormTraining: false, rng: streamRng(0, 'dropout', 0), detectNonFinite: false };
      const output = prepared.lowered.forward([batch.input], mode);
      lossSum += lossOf(prepared.train.loss, output, batch.target).item() * batch.size;
      const right = correctCount(prepared.train.loss, output, batch.target);
      correct = right === null || correct === null ? null : correct + right;
    }
  });
  return { loss: lossSum / split.count, accuracy: correct === null ? null : correct / split.count };
}

/** The first parameter whose gradient holds a NaN or Inf. */
function nonFiniteGradient(lowered: LoweredModel): LoweredModel['params'][number] | null {
  return lowered.params.find((p) => p.tensor.grad !== null && hasNonFinite(p.tensor.grad.data)) ?? null;
}

/**
 * Trains the model of a `train` block. Returns the errors that prevent a run (the file does
 * not check, a data or weights file is bad), or the run's end event.
 */
export async function train(text: string, options: TrainOptions, onEvent: (event: RunEvent) => void): Promise<{ errors: RunError[] } | { end: EndEvent }> {
  const started = Date.now();
  const prepared = prepare(text, options);
  if (Array.isArray(prepared)) return { errors: prepared };
  const { train: spec, lowered, trainSplit, evalSplit } = prepared;
  const params = lowered.params.map((p) => ({ name: p.name, tensor: p.tensor }));
  const optimizer = optimizerFromSpec(spec.optimizer, params.map((p) => p.tensor));
  const saveDir = options.resume ?? options.saveDir ?? resolve(options.baseDir, spec.save);
  const checkpointPath = join(saveDir, CHECKPOINT_FILE);
  const fileError = (message: string): { errors: RunError[] } => ({ errors: [{ code: 'NN4005', message, range: spec.range }] });

  let position: RunPosition = { step: 0, epoch: 0, batch: 0, epochLossSum: 0, epochBatches: 0 };
  if (options.init) {
    const problem = loadWeights(options.init, params, lowered.buffers);
    if (problem) return fileError(`--init ${options.init}: ${problem.error}`);
  }
  if (options.resume) {
    const loaded = loadCheckpoint(checkpointPath, { model: lowered.name, seed: spec.seed, params, buffers: lowered.buffers, optimizer, optimizerKind: spec.optimizer.kind });
    if ('error' in loaded) return fileError(`--resume ${checkpointPath}: ${loaded.error}`);
    position = loaded;
  }
  mkdirSync(saveDir, { recursive: true });
  const log = new RunLog(join(saveDir, RUN_LOG_FILE));
  const emit = (event: RunEvent): void => {
    log.write(event);
    onEvent(event);
  };

  const epochs = options.epochs ?? spec.epochs;
  const layout = batchLayout(prepared);
  const stepsPerEpoch = batchCount(trainSplit.count, spec.batch);
  const paramCount = lowered.params.reduce((n, p) => n + p.tensor.size, 0);
  emit({ type: 'start', model: lowered.name, backend: 'ts', epochs, stepsPerEpoch, params: paramCount, ...(options.resume ? { resumedFrom: position.step } : {}) });

  const tracker = new FindingTracker(layerRanges(prepared));
  const findings: Finding[] = [];
  const report = (finding: Finding): void => {
    findings.push(finding);
    emit({ type: 'finding', finding });
  };
  let lastCheckpoint: string | null = options.resume ? checkpointPath : null;
  const save = (): void => {
    saveCheckpoint(checkpointPath, { model: lowered.name, seed: spec.seed, params, buffers: lowered.buffers, optimizer, optimizerKind: spec.optimizer.kind, position });
    lastCheckpoint = checkpointPath;
    emit({ type: 'checkpoint', step: position.step, path: checkpointPath });
  };

  let reason: EndEvent['reason'] = 'done';
  let testAccuracy: number | null = null;
  let { step } = position;
  training: for (let epoch = position.epoch; epoch < epochs; epoch++) {
    const order = epochOrder(trainSplit.count, spec.seed, epoch, true);
    const firstBatch = epoch === position.epoch ? position.batch : 0;
    let { epochLossSum, epochBatches } = epoch === position.epoch ? position : { epochLossSum: 0, epochBatches: 0 };
    const epochStarted = Date.now();
    let samples = 0;
    for (let b = firstBatch; b < stepsPerEpoch; b++) {
      const batch = makeBatch(trainSplit, order, b * spec.batch, spec.batch, layout);
      const activations: ActivationStats[] = [];
      let loss: Tensor;
      try {
        const mode = { dropout: true, batchNormTraining: true, rng: streamRng(spec.seed, 'dropout', step), activations, detectNonFinite: true };
        loss = lossOf(spec.loss, lowered.forward([batch.input], mode), batch.target);
      } catch (error) {
        if (!(error instanceof NonFiniteError)) throw error;
        const line = prepared.lineOf(error.node.range.start);
        report(nanFinding(error.where, `the output of \`${error.node.op}\` (line ${line}) is the first value with a NaN or Inf, at step ${step + 1}; training stopped`, error.node.range, step + 1));
        reason = 'nan';
        break training;
      }
      const lossValue = loss.item();
      if (!Number.isFinite(lossValue)) {
        report(nanFinding('loss', `the ${spec.loss} loss is ${lossValue} at step ${step + 1}; training stopped`, spec.keyRanges.loss ?? spec.range, step + 1));
        reason = 'nan';
        break training;
      }
      optimizer.zeroGrad();
      loss.backward();
      const badGradient = nonFiniteGradient(lowered);
      if (badGradient) {
        const line = prepared.lineOf(badGradient.info.range.start);
        report(nanFinding(badGradient.layer, `the gradient of \`${badGradient.name}\` (declared at line ${line}) has a NaN or Inf at step ${step + 1}; training stopped`, badGradient.info.range, step + 1));
        reason = 'nan';
        break training;
      }
      const before = lowered.params.map((p) => p.tensor.data.slice());
      optimizer.step();
      step++;
      const stats: ParamGradStats[] = lowered.params.map((p, i) =>
        paramGradStats(p.name, p.layer, p.tensor.grad?.data ?? new Float32Array(p.tensor.size), p.tensor.data, differenceNorm(p.tensor.data, before[i])),
      );
      epochLossSum += lossValue;
      epochBatches++;
      samples += batch.size;
      const seconds = (Date.now() - epochStarted) / 1000;
      emit({ type: 'step', epoch, step, loss: lossValue, samplesPerSec: seconds > 0 ? samples / seconds : 0, params: stats, activations });
      for (const finding of tracker.observe(step, stats, activations)) report(finding);
      position = { step, epoch, batch: b + 1, epochLossSum, epochBatches };
      await new Promise((done) => setImmediate(done)); // lets a cancellation arrive
      if (options.signal?.aborted) {
        save();
        reason = 'cancelled';
        break training;
      }
    }
    const evaluation = evaluate(prepared, evalSplit ?? trainSplit, layout);
    testAccuracy = evaluation.accuracy;
    emit({
      type: 'epoch',
      epoch,
      step,
      trainLoss: epochBatches > 0 ? epochLossSum / epochBatches : NaN,
      testLoss: evaluation.loss,
      testAccuracy,
      evaluatedOn: evalSplit === null ? 'train' : evalSplit === prepared.data.test ? 'test' : 'validation',
    });
    position = { step, epoch: epoch + 1, batch: 0, epochLossSum: 0, epochBatches: 0 };
    save();
  }
  const end: EndEvent = { type: 'end', reason, step, testAccuracy, seconds: (Date.now() - started) / 1000, checkpoint: lastCheckpoint, findings };
  emit(end);
  log.close();
  return { end };
}
