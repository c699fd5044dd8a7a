// The Adam / AdamW update loop over one parameter (optim/adam.ts computes the step's
// scalars), split over the kernel threads by elements for large parameters.

import type { FloatArray } from '../tensor/tensor.js';
import { parallelFor } from './pool.js';

export interface AdamScalars {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1ᵗ). */
  stepSize: number;
  /** √(1 − β2ᵗ). */
  sqrtCorrection2: number;
  /** Adam's L2 weight decay, added to the gradient (0 for AdamW). */
  l2: number;
  /** AdamW's factor on the weight, 1 − lr·wd (1 for Adam). */
  decay: number;
}

/** Elements' work in one update, relative to a multiply-add. */
const UPDATE_WORK = 16;

/** m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p = p·decay − stepSize·m / (√v / √(1−β2ᵗ) + eps). */
export function adamUpdate(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, s: AdamScalars): void {
  const scalars = [s.beta1, s.beta2, s.eps, s.stepSize, s.sqrtCorrection2, s.l2, s.decay];
  parallelFor('adam', param.length, param.length * UPDATE_WORK, [param, grad, m, v], [0, 2, 3], scalars);
}

export function adamPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [param, grad, m, v] = arrays;
  const [beta1, beta2, eps, stepSize, sqrtCorrection2, l2, decay] = scalars;
  for (let i = first; i < end; i++) {
    const g = grad[i] + l2 * param[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    param[i] = param[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtCorrection2 + eps);
  }
}
