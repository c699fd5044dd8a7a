// The `train` block's loss on a model output, and the accuracy of a split's predictions.

import type { TrainIR } from '../lang/api.js';
import { Tensor } from '../tensor/tensor.js';
import { bceWithLogits, crossEntropy, mse, reshape } from '../index.js';

/** Class ids only feed cross_entropy; mse and bce_with_logits take float targets. */
export function usesClassIds(loss: TrainIR['loss']): boolean {
  return loss === 'cross_entropy';
}

export function lossOf(loss: TrainIR['loss'], output: Tensor, target: Tensor): Tensor {
  if (loss === 'cross_entropy') return crossEntropy(output, target);
  // Targets of shape [B] fit an output [B, 1]: same elements, another shape.
  const fitted = target.size === output.size && target.shape.length !== output.shape.length ? reshape(target, output.shape) : target;
  return loss === 'mse' ? mse(output, fitted) : bceWithLogits(output, fitted);
}

/** Correct predictions in a batch: argmax for cross_entropy, logit > 0 for bce_with_logits. */
export function correctCount(loss: TrainIR['loss'], output: Tensor, target: Tensor): number | null {
  if (loss === 'mse') return null;
  const out = output.data;
  const labels = target.data;
  const batch = output.shape[0];
  const width = output.size / batch;
  let correct = 0;
  if (loss === 'cross_entropy') {
    for (let b = 0; b < batch; b++) {
      let best = 0;
      for (let c = 1; c < width; c++) if (out[b * width + c] > out[b * width + best]) best = c;
      if (best === labels[b]) correct++;
    }
    return correct;
  }
  for (let i = 0; i < out.length; i++) if ((out[i] > 0 ? 1 : 0) === labels[i]) correct++;
  return correct / width;
}
