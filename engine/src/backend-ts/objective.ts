// The `train` block's loss on a model output, and the accuracy of a split's predictions.

import type { TrainIR } from '../lang/api.js';
import { Tensor } from '../tensor/tensor.js';
import { OPS } from '../ops/registry.js';
import type { TsContext } from '../ops/def.js';
import { defaultRng } from '../random.js';
import type { TargetForm } from '../lang/targets.js';

/** Losses read neither the forward mode nor shapes: their value is a scalar. */
const LOSS_CONTEXT: TsContext = { mode: { dropout: false, batchNormTraining: false, rng: defaultRng() }, concrete: () => [], outShape: [] };

/** The loss of an output against targets in the loss's form (see lang/targets.ts and batches.ts). */
export function lossOf(loss: TrainIR['loss'], output: Tensor, target: Tensor): Tensor {
  // A `train` block names a loss without arguments: its attributes are the defaults (none yet).
  return OPS[loss].ts([output, target], {} as never, LOSS_CONTEXT);
}

/** The index of the largest of `width` values from `start`. */
function argmax(values: ArrayLike<number>, start: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (values[start + c] > values[start + best]) best = c;
  return best;
}

/**
 * Correct predictions in a batch, or null for a loss without classes: the arg-max class for
 * class ids and one-hot rows, the sign of each logit for bce_with_logits on values.
 */
export function correctCount(loss: TrainIR['loss'], form: TargetForm, output: Tensor, target: Tensor): number | null {
  const out = output.data;
  const labels = target.data;
  const batch = output.shape[0];
  const width = output.size / batch;
  let correct = 0;
  if (form.kind === 'class-ids') {
    for (let b = 0; b < batch; b++) if (argmax(out, b * width, width) === labels[b]) correct++;
    return correct;
  }
  if (form.kind === 'one-hot') {
    for (let b = 0; b < batch; b++) if (argmax(out, b * width, width) === argmax(labels, b * width, width)) correct++;
    return correct;
  }
  if (loss !== 'bce_with_logits') return null;
  for (let i = 0; i < out.length; i++) if ((out[i] > 0 ? 1 : 0) === labels[i]) correct++;
  return correct / width;
}
