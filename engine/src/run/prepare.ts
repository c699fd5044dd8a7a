// What a run, a probe and the CLI share before any step: check the text, pick the `train`
// block, load its data set and lower its model. Every failure is a RunError with a code and
// a place in the `.nn` file, never an exception.

import { checkpointedModel } from '../lang/checkpoints.js';
import type { CheckResult, Diagnostic, ModelIR, TextRange, TrainIR } from '../lang/api.js';
import { checkProgram } from '../lang/program.js';
import { formatMessage } from '../lang/diagnostics.js';
import { targetForm, type TargetForm } from '../lang/targets.js';
import { formatShape } from '../shape/dim.js';
import { fetchData, type DownloadProgress } from '../data/fetch.js';
import { fileChecks, isDataError, loadDataset, type DataSources, type Dataset, type Split } from '../data/index.js';
import { sourceChecks } from '../data/sourceFiles.js';
import { dataSources } from '../data/sources.js';
import { Rng } from '../random.js';
import { lineIndex, lowerModel, type LoweredModel } from '../backend-ts/lower.js';
import { DEFAULT_SIZE_LIMITS, sizeLimitError, type SizeLimits } from './limits.js';

export interface RunError {
  code: string;
  message: string;
  range: TextRange | null;
}

export interface Prepared {
  check: CheckResult;
  train: TrainIR;
  model: ModelIR;
  lowered: LoweredModel;
  data: Dataset;
  /** The split trained on and the one evaluated each epoch (null when there is none). */
  trainSplit: Split;
  evalSplit: Split | null;
  lineOf: (offset: number) => number;
  /** What the loss compares the output with, from the data's labels. */
  target: TargetForm;
}

export interface PrepareOptions {
  /** The folder data paths are relative to (the `.nn` file's folder). */
  baseDir: string;
  /** The model whose `train` block to use; the first `train` block by default. */
  model?: string;
  /** The `.nn` file itself, for the files it imports. */
  file?: string;
  /** A check of the same text the caller already has (the language server's cache). */
  check?: CheckResult;
  /** Parameter dtype (float64 for finite-difference tests). */
  dtype?: 'float32' | 'float64';
  /** Size limits checked before anything is allocated (DEFAULT_SIZE_LIMITS when absent). */
  limits?: SizeLimits;
  /** The user's opt-in: data files may come from outside `baseDir`. */
  allowPathsOutside?: boolean;
  /** Where built-in image sets come from (the download cache, mirror, Debian's folder); the environment's when absent. */
  sources?: DataSources;
}

/** Hooks of the download that brings a built-in data set onto the machine before the first run. */
export interface FetchOptions {
  onDownload?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export function isRunError(value: unknown): value is RunError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value && 'range' in value;
}

export function runErrorOf(diagnostic: Diagnostic): RunError {
  return { code: diagnostic.code, message: diagnostic.message, range: diagnostic.range };
}

/** The program's errors (not warnings), for a run refused because the file does not check. */
export function checkErrors(check: CheckResult): RunError[] {
  return check.diagnostics.filter((d) => d.severity === 'error').map(runErrorOf);
}

export function pickTrain(check: CheckResult, model: string | undefined): TrainIR | RunError {
  const train = model === undefined ? check.trains[0] : check.trains.find((t) => t.model === model);
  if (train) return train;
  const message =
    model === undefined
      ? 'the file has no `train` block: add one, e.g. `train Net { data = fashion_mnist(train = 2000, test = 500) }`'
      : `no \`train\` block for model \`${model}\` (blocks: ${check.trains.map((t) => t.model).join(', ') || 'none'})`;
  return { code: 'NN4001', message, range: null };
}

/** The held-out fraction for `validate = 0.2`: a seeded random subset, so every class is in it. */
function holdOut(split: Split, fraction: number, sampleSize: number, labelSize: number, seed: number): { train: Split; held: Split } {
  const order = new Rng(seed).permutation(split.count);
  const heldCount = Math.max(1, Math.round(split.count * fraction));
  const pick = (indices: number[]): Split => {
    const inputs = new Float32Array(indices.length * sampleSize);
    const targets = new Float32Array(indices.length * labelSize);
    indices.forEach((from, to) => {
      inputs.set(split.inputs.subarray(from * sampleSize, (from + 1) * sampleSize), to * sampleSize);
      targets.set(split.targets.subarray(from * labelSize, (from + 1) * labelSize), to * labelSize);
    });
    return { count: indices.length, inputs, targets };
  };
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  return { train: pick(sorted(order.slice(heldCount))), held: pick(sorted(order.slice(0, heldCount))) };
}

function checkOf(text: string, options: PrepareOptions): CheckResult {
  const access = { allowPathsOutside: options.allowPathsOutside, sources: options.sources };
  return options.check ?? checkProgram(text, { ...fileChecks(options.baseDir, access), ...(options.file === undefined ? {} : sourceChecks(options.file)) });
}

/**
 * Downloads the `train` block's data set when it is a built-in one not on the machine yet
 * (the first run of `mnist()`); returns the check to pass on to `prepare`, or the NN4005
 * error at the `data` value when the download fails (offline, checksum mismatch).
 */
export async function fetchTrainData(text: string, options: PrepareOptions & FetchOptions): Promise<{ check: CheckResult } | { errors: RunError[] }> {
  const check = checkOf(text, options);
  const train = checkErrors(check).length === 0 ? pickTrain(check, options.model) : null;
  if (train === null || isRunError(train)) return { check }; // prepare() reports why there is nothing to run
  const problem = await fetchData(train.data, options.sources ?? dataSources(), { onProgress: options.onDownload, signal: options.signal });
  if (problem) return { errors: [{ code: 'NN4005', message: formatMessage('NN4005', [problem.path, problem.problem]), range: train.dataRange }] };
  return { check };
}

export function prepare(text: string, options: PrepareOptions): Prepared | RunError[] {
  const access = { allowPathsOutside: options.allowPathsOutside, sources: options.sources };
  const check = checkOf(text, options);
  const errors = checkErrors(check);
  if (errors.length > 0) return errors;
  const train = pickTrain(check, options.model);
  if (isRunError(train)) return [train];
  const checked = check.irs.get(train.model);
  if (!checked) return [{ code: 'NN4001', message: `model \`${train.model}\` has no checked graph`, range: train.range }];
  const model = checkpointedModel(checked, train.controls);
  const tooLarge = sizeLimitError(model, train, options.limits ?? DEFAULT_SIZE_LIMITS);
  if (tooLarge) return [tooLarge];
  const data = loadDataset(train.data, options.baseDir, access);
  if (isDataError(data)) return [{ code: 'NN4005', message: formatMessage('NN4005', [data.path, data.problem]), range: train.dataRange }];
  const output = model.graph.values[model.graph.output].shape;
  const target = targetForm(train.loss, output.slice(1), { classes: data.classes, labelShape: data.labelShape });
  if ('problem' in target) return [{ code: 'NN4007', message: formatMessage(target.problem.id, [train.loss, formatShape(output), ...target.problem.args]), range: train.keyRanges.loss ?? train.range }];
  const lineOf = lineIndex(text);
  const lowered = lowerModel(model, check.fnIrs, train.seed, lineOf, options.dtype ?? 'float32');
  const sampleSize = data.sampleShape.reduce((a, b) => a * b, 1);
  const labelSize = data.labelShape.reduce((a, b) => a * b, 1);
  let trainSplit = data.train;
  let evalSplit = data.test;
  if (typeof train.validate === 'number' && train.validate > 0) {
    const parts = holdOut(data.train, train.validate, sampleSize, labelSize, train.seed);
    trainSplit = parts.train;
    evalSplit = parts.held;
  }
  return { check, train, model, lowered, data, trainSplit, evalSplit, lineOf, target };
}
