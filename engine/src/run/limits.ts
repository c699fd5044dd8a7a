// Size limits checked before a run allocates anything: a hostile or mistyped file (a layer
// with 1e12 features) gets NN4002 with the computed size instead of an allocation failure.

import type { CheckResult, Diagnostic, ModelIR, TextRange, TrainIR } from '../lang/api.js';
import { formatMessage } from '../lang/diagnostics.js';
import { Dim } from '../shape/dim.js';

export interface SizeLimits {
  /** Trainable parameters (float32 each, plus optimizer state of the same size). */
  maxParameters: number;
  /** Memory of one step's activations at the `train` block's batch size, in bytes. */
  maxActivationBytes: number;
}

/** 100M parameters is 400 MB of float32 weights (1.2 GB with Adam's state); 2 GiB of activations. The same defaults as the editor settings `nn.limits.*`. */
export const DEFAULT_SIZE_LIMITS: SizeLimits = { maxParameters: 100_000_000, maxActivationBytes: 2 ** 31 };

const FLOAT_BYTES = 4;

export interface ModelSize {
  parameters: number;
  activationBytes: number;
}

/**
 * Parameters and activation memory of a model at a batch size, computed from shapes alone.
 * Every value of the graph is counted (the tape keeps them for the backward pass); a dim
 * other than the batch dim that stays symbolic counts as 1.
 */
export function modelSize(model: ModelIR, batch: number): ModelSize {
  const parameters = model.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  const batchDims = new Map<string, Dim>();
  for (const input of model.graph.inputs) {
    const first = model.graph.values[input]?.shape[0];
    for (const name of first?.names() ?? []) batchDims.set(name, Dim.of(batch));
  }
  let elements = 0;
  for (const value of model.graph.values) {
    let count = 1;
    for (const dim of value.shape) count *= dim.substitute(batchDims).constant() ?? 1;
    elements += count;
  }
  return { parameters, activationBytes: elements * FLOAT_BYTES };
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The NN4002 message when a model at a batch size is too large to run; null when it fits. */
export function sizeLimitProblem(model: ModelIR, batch: number, limits: SizeLimits): { key: 'model' | 'batch'; message: string } | null {
  const size = modelSize(model, batch);
  if (size.parameters > limits.maxParameters) {
    const args = ['model', model.name, size.parameters.toLocaleString('en-US'), formatBytes(size.parameters * FLOAT_BYTES), limits.maxParameters.toLocaleString('en-US')];
    return { key: 'model', message: formatMessage('NN4002/tooManyParameters', args) };
  }
  if (size.activationBytes > limits.maxActivationBytes) {
    const args = ['batch', model.name, batch, formatBytes(size.activationBytes), formatBytes(limits.maxActivationBytes)];
    return { key: 'batch', message: formatMessage('NN4002/activationsTooLarge', args) };
  }
  return null;
}

/** NN4002 at the `train` block (or its `batch` key) when its model is too large to run. */
export function sizeLimitError(model: ModelIR, train: TrainIR, limits: SizeLimits): { code: 'NN4002'; message: string; range: TextRange } | null {
  const problem = sizeLimitProblem(model, train.batch, limits);
  if (!problem) return null;
  const range = problem.key === 'batch' ? (train.keyRanges.batch ?? train.range) : train.range;
  return { code: 'NN4002', message: problem.message, range };
}

/**
 * NN4002 for every `train` block of a checked file whose model is too large to run, as
 * diagnostics: `nn check` reports them without allocating anything.
 */
export function sizeLimitDiagnostics(check: CheckResult, limits: SizeLimits = DEFAULT_SIZE_LIMITS): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const train of check.trains) {
    const model = check.irs.get(train.model);
    const error = model ? sizeLimitError(model, train, limits) : null;
    if (error) diagnostics.push({ ...error, severity: 'error', related: [], fixes: [] });
  }
  return diagnostics;
}
