// Chooses the training back end for a run: `onnx` builds the ONNX step graph (and fails
// with a message naming the construct it cannot lower), `auto` falls back to the TS engine
// with the reason, `ts` never touches onnxruntime.

import type { FnIR, ModelIR, TrainIR } from '../lang/api.js';
import { formatMessage } from '../lang/diagnostics.js';
import { buildTrainStep } from '../backend-onnx/graphs.js';
import { OnnxTrainer, type OnnxTrainerOptions } from '../backend-onnx/session.js';
import { OnnxUnsupported } from '../onnx/unsupported.js';

export type BackendChoice =
  | { backend: 'onnx' }
  | { backend: 'ts'; reason: string | null }
  /** The NN4002 message when `backend = "onnx"` cannot lower the model. */
  | { error: string };

/** Whether the model lowers to ONNX; a pure check (it builds, but does not run, the graph). */
export function chooseBackend(model: ModelIR, fns: ReadonlyMap<string, FnIR>, train: TrainIR): BackendChoice {
  if (train.backend === 'ts') return { backend: 'ts', reason: null };
  try {
    buildTrainStep(model, fns, train.loss, train.optimizer, { stats: true, dropout: true, lossArgs: train.lossArgs, lossWeight: train.lossWeight });
    return { backend: 'onnx' };
  } catch (error) {
    if (!(error instanceof OnnxUnsupported)) throw error;
    if (train.backend === 'onnx') return { error: formatMessage('NN4002/onnxUnsupported', ['backend', model.name, error.construct]) };
    return { backend: 'ts', reason: `the ONNX backend cannot train \`${model.name}\`: it cannot lower ${error.construct}; training on the TS engine` };
  }
}

/**
 * A trainer for the training loop: `step(x, y)` runs one step on engine tensors or plain
 * {data, shape} batches and returns the loss and per-parameter statistics; `params()`
 * returns the current weights. `initial` holds every parameter and buffer by name.
 */
export function createOnnxTrainer(
  model: ModelIR,
  train: Pick<TrainIR, 'loss' | 'lossArgs' | 'lossWeight' | 'optimizer' | 'controls'>,
  initial: ReadonlyMap<string, Float32Array>,
  options: OnnxTrainerOptions & { fns?: ReadonlyMap<string, FnIR> } = {},
): Promise<OnnxTrainer> {
  return OnnxTrainer.create(model, options.fns ?? new Map(), train, initial, options);
}
