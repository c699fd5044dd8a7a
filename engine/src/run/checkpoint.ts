// Training checkpoints: the model's parameters and buffers by state_dict name, the optimizer
// state as `optim.<param>.<state>` (PyTorch's state names), and the run's position in
// `__metadata__`, in one .safetensors file written atomically; and loading them back exactly.

import type { Tensor } from '../tensor/tensor.js';
import type { FloatArray } from '../tensor/tensor.js';
import { readSafetensors, storedTensor, writeSafetensors, type StoredTensor } from '../core/safetensors.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const RUN_LOG_FILE = 'run.jsonl';
/** The weights of the epoch with the lowest evaluated loss, next to the checkpoint (`--init` loads them). */
export const BEST_FILE = 'best.safetensors';
const FORMAT = 'nn-studio-checkpoint-1';
const OPTIM_PREFIX = 'optim.';

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** Where a run stands: enough to continue it exactly. */
export interface RunPosition {
  /** Optimizer steps taken. */
  step: number;
  /** The epoch in progress (0-based) and the index of its next batch. */
  epoch: number;
  batch: number;
  /** Running sum of this epoch's batch losses and their count, for its mean train loss. */
  epochLossSum: number;
  epochBatches: number;
}

/** Per-parameter optimizer state buffers by PyTorch's state names (`exp_avg`), indexed like the parameters. */
export type OptimizerBuffers = Record<string, (FloatArray | undefined)[]>;

/** What a checkpoint needs of an optimizer (the engine's Optimizer, or the ONNX trainer's state). */
export interface OptimizerState {
  stepCount: number;
  state(): OptimizerBuffers;
}

export interface CheckpointContent {
  model: string;
  seed: number;
  params: readonly NamedTensor[];
  buffers: readonly NamedTensor[];
  optimizer: OptimizerState;
  optimizerKind: string;
  position: RunPosition;
}

function stored(t: Tensor): StoredTensor {
  return storedTensor(t.shape, t.data as Float32Array | Float64Array);
}

export function saveCheckpoint(path: string, content: CheckpointContent): void {
  const tensors = new Map<string, StoredTensor>();
  for (const { name, tensor } of [...content.params, ...content.buffers]) tensors.set(name, stored(tensor));
  const state = content.optimizer.state();
  content.params.forEach(({ name, tensor }, i) => {
    for (const [stateName, buffers] of Object.entries(state)) {
      const buffer = buffers[i];
      if (buffer) tensors.set(`${OPTIM_PREFIX}${name}.${stateName}`, storedTensor(tensor.shape, buffer));
    }
  });
  const p = content.position;
  // Numbers go through String(), which round-trips doubles exactly.
  const metadata: Record<string, string> = {
    format: FORMAT,
    model: content.model,
    seed: String(content.seed),
    optimizer: content.optimizerKind,
    optimizer_step: String(content.optimizer.stepCount),
    step: String(p.step),
    epoch: String(p.epoch),
    batch: String(p.batch),
    epoch_loss_sum: String(p.epochLossSum),
    epoch_batches: String(p.epochBatches),
    // Random streams are derived from (seed, epoch) for shuffling and (seed, step) for
    // dropout, so the seed and the position above are the whole RNG state.
    rng: `shuffle=Rng(seed, epoch ${p.epoch}), dropout=Rng(seed, step ${p.step})`,
  };
  writeSafetensors(path, { tensors, metadata });
}

/** The parameters and buffers alone (no optimizer state), with the epoch and step they are from. */
export function saveWeights(path: string, content: { model: string; params: readonly NamedTensor[]; buffers: readonly NamedTensor[]; epoch: number; step: number; loss: number }): void {
  const tensors = new Map<string, StoredTensor>();
  for (const { name, tensor } of [...content.params, ...content.buffers]) tensors.set(name, stored(tensor));
  writeSafetensors(path, { tensors, metadata: { format: 'nn-studio-weights-1', model: content.model, epoch: String(content.epoch), step: String(content.step), loss: String(content.loss) } });
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Copies stored values into `target` after checking the shape; an error message otherwise. */
function copyInto(name: string, source: StoredTensor, target: Tensor): string | null {
  if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
    return `\`${name}\` has shape ${shapeText(source.shape)} in the file, the model has ${shapeText(target.shape)}`;
  }
  if (source.dtype === 'I64') return `\`${name}\` is I64 in the file; parameters are floats`;
  (target.data as Float32Array).set(source.data as Float32Array | Float64Array);
  return null;
}

/**
 * Loads parameters (and buffers, when the file has them) by name. Refuses a file whose
 * parameter names or shapes differ from the model's, listing what differs; the model is
 * left unchanged then.
 */
export function loadWeights(path: string, params: readonly NamedTensor[], buffers: readonly NamedTensor[]): { error: string } | null {
  const file = readSafetensors(path);
  if ('error' in file) return file;
  const stored = new Map([...file.tensors].filter(([name]) => !name.startsWith(OPTIM_PREFIX)));
  const expected = new Set(params.map((p) => p.name));
  const bufferNames = new Set(buffers.map((b) => b.name));
  const missing = [...expected].filter((n) => !stored.has(n));
  const unexpected = [...stored.keys()].filter((n) => !expected.has(n) && !bufferNames.has(n));
  if (missing.length > 0 || unexpected.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.map((n) => `\`${n}\``).join(', ')}` : '',
      unexpected.length > 0 ? `unexpected ${unexpected.map((n) => `\`${n}\``).join(', ')}` : '',
    ].filter((s) => s !== '');
    return { error: `the parameter names differ from the model's: ${parts.join('; ')}` };
  }
  for (const { name, tensor } of [...params, ...buffers]) {
    const source = stored.get(name);
    if (source && (source.shape.length !== tensor.shape.length || source.shape.some((d, i) => d !== tensor.shape[i]))) {
      return { error: `\`${name}\` has shape ${shapeText(source.shape)} in the file, the model has ${shapeText(tensor.shape)}` };
    }
  }
  for (const { name, tensor } of [...params, ...buffers]) {
    const source = stored.get(name);
    const problem = source ? copyInto(name, source, tensor) : null;
    if (problem) return { error: problem };
  }
  return null;
}

/** Loads a whole checkpoint (weights, optimizer state, position) to continue its run. */
export function loadCheckpoint(path: string, content: Omit<CheckpointContent, 'position'>): RunPosition | { error: string } {
  const file = readSafetensors(path);
  if ('error' in file) return file;
  const m = file.metadata;
  if (m.format !== FORMAT) return { error: 'not a checkpoint written by `nn train` (no run position in its metadata)' };
  if (m.model !== content.model) return { error: `the checkpoint is of model \`${m.model}\`, not \`${content.model}\`` };
  if (m.optimizer !== content.optimizerKind) return { error: `the checkpoint used optimizer ${m.optimizer}, the train block uses ${content.optimizerKind}` };
  const weightsProblem = loadWeights(path, content.params, content.buffers);
  if (weightsProblem) return weightsProblem;
  const state = content.optimizer.state();
  content.params.forEach(({ name, tensor }, i) => {
    for (const [stateName, buffers] of Object.entries(state)) {
      const source = file.tensors.get(`${OPTIM_PREFIX}${name}.${stateName}`);
      if (!source) continue;
      if (source.data.length !== tensor.size) return;
      const buffer = tensor.dtype === 'float64' ? new Float64Array(source.data.length) : new Float32Array(source.data.length);
      buffer.set(source.data as Float32Array | Float64Array);
      buffers[i] = buffer;
    }
  });
  content.optimizer.stepCount = Number(m.optimizer_step);
  const position: RunPosition = {
    step: Number(m.step),
    epoch: Number(m.epoch),
    batch: Number(m.batch),
    epochLossSum: Number(m.epoch_loss_sum),
    epochBatches: Number(m.epoch_batches),
  };
  if (Object.values(position).some((v) => !Number.isFinite(v))) return { error: 'corrupt checkpoint metadata (run position)' };
  return position;
}
