// Activation checkpointing: run a segment without keeping its intermediate activations,
// and recompute them during the backward pass (like torch.utils.checkpoint).

import { Tensor } from '../tensor/tensor.js';
import { enableGrad, isGradEnabled, noGrad, observeGradInputs, propagate, record } from './tape.js';

/**
 * Computes `segment(...inputs)` without a tape inside the segment; the result carries one
 * node whose backward rule reruns the segment with the tape on and backpropagates through
 * it. Parameters the segment reads (closures included) still receive their gradients.
 * The segment must be deterministic: dropout inside it would draw a different mask when
 * recomputed, and batch norm in train mode would update its running statistics twice.
 */
export function checkpoint(segment: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  if (!isGradEnabled()) return segment(...inputs);
  const { result, gradInputs } = observeGradInputs(() => noGrad(() => segment(...inputs)));
  const outer = [...inputs.filter((x) => x.requiresGrad), ...[...gradInputs].filter((x) => !inputs.includes(x))];
  if (outer.length === 0) return result;
  const output = new Tensor(result.data, result.shape, result.dtype);
  return record('checkpoint', output, outer, (upstreamGrad) => {
    // Fresh leaves stand in for the explicit inputs, so recomputation stops at them.
    const standIns = inputs.map((x) => (x.requiresGrad ? new Tensor(x.data, x.shape, x.dtype, true) : x));
    const recomputed = enableGrad(() => segment(...standIns));
    const boundary = new Set<Tensor>([...standIns.filter((x) => x.requiresGrad), ...outer]);
    const reached = recomputed.requiresGrad ? propagate(recomputed, upstreamGrad, boundary) : new Map<Tensor, Tensor>();
    return outer.map((x) => {
      const at = inputs.indexOf(x);
      return reached.get(at >= 0 ? standIns[at] : x) ?? null;
    });
  });
}
