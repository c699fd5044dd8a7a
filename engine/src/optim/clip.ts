// Gradient clipping as torch.nn.utils does it: clip_grad_norm_ scales every gradient by
// max_norm / (total norm + 1e-6) when that is below 1 (the total L2 norm over all
// parameters), clip_grad_value_ clamps each element to [-clip, clip].

import type { Tensor } from '../tensor/tensor.js';

/** Scales the gradients in place; returns their total norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let sumSquares = 0;
  for (const p of params) if (p.grad) for (const g of p.grad.values) sumSquares += g * g;
  const total = Math.sqrt(sumSquares);
  const coefficient = maxNorm / (total + 1e-6);
  if (coefficient < 1) {
    for (const p of params) {
      if (!p.grad) continue;
      const values = p.grad.values;
      for (let i = 0; i < values.length; i++) values[i] *= coefficient;
    }
  }
  return total;
}

/** Clamps every gradient element to [-clip, clip], in place. */
export function clipGradValue(params: readonly Tensor[], clip: number): void {
  for (const p of params) {
    if (!p.grad) continue;
    const values = p.grad.values;
    for (let i = 0; i < values.length; i++) values[i] = Math.min(clip, Math.max(-clip, values[i]));
  }
}
