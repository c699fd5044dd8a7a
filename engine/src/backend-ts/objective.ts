// The `train` block's loss on a model output, and the accuracy of a split's predictions.

import type { TrainIR } from '../lang/api.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { TargetForm } from '../lang/targets.js';
import { OPS } from '../ops/registry.js';
import type { OpDef, TsMode } from '../ops/def.js';
import { lossAttrs } from '../lang/trainCatalogue.js';
import { Rng } from '../random.js';

/** A loss runs no dropout and no batch norm: its kernel's mode is fixed. */
const LOSS_MODE: TsMode = { dropout: false, batchNormTraining: false, rng: new Rng(0) };

/** The loss of an output against targets in the loss's form (see lang/targets.ts and batches.ts), by the loss's registry kernel, with the block's class weights. */
export function lossOf(loss: TrainIR['loss'], output: Tensor, target: Tensor, args: TrainIR['lossArgs'] = {}, weight?: TrainIR['lossWeight']): Tensor {
  const def = OPS[loss] as unknown as OpDef<object>;
  const inputs = weight ? [output, target, tensor([...weight], { dtype: output.dtype })] : [output, target];
  return def.ts(inputs, lossAttrs(loss, args), { mode: LOSS_MODE, outShape: [], concrete: (shape) => shape.map((d) => d.constant() ?? 0) });
}

/** The index of the largest of `width` values from `start`. */
export function argmax(values: ArrayLike<number>, start: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (values[start + c] > values[start + best]) best = c;
  return best;
}

/**
 * Correct predictions in a batch, or null for a loss without classes: the arg-max class for
 * class ids and one-hot rows, the sign of each logit for a loss on binary logits with value targets.
 */
export function correctCount(loss: TrainIR['loss'], form: TargetForm, output: Tensor, target: Tensor): number | null {
  const out = output.data;
  const labels = target.data;
  const batch = output.shape[0];
  const width = output.size / batch;
  let correct = 0;
  if (form.kind === 'class-ids') {
    // One label per position of a sequence: a sample counts by the fraction of positions right.
    const positions = form.shape.reduce((a, b) => a * b, 1);
    const classes = width / positions;
    for (let r = 0; r < batch * positions; r++) if (argmax(out, r * classes, classes) === labels[r]) correct++;
    return correct / positions;
  }
  if (form.kind === 'one-hot') {
    for (let b = 0; b < batch; b++) if (argmax(out, b * width, width) === argmax(labels, b * width, width)) correct++;
    return correct;
  }
  if (!OPS[loss].binaryLogits) return null;
  for (let i = 0; i < out.length; i++) if ((out[i] > 0 ? 1 : 0) === labels[i]) correct++;
  return correct / width;
}
