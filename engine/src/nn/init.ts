// Parameter initialization as PyTorch does it by default, for layers and for the IR's
// `InitSpec` (so lowered `.nn` models start from the same distributions).

import type { InitSpec } from '../lang/api.js';
import { Tensor, allocateFloat, type DType } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';
import type { Rng } from '../random.js';

/**
 * The bound of kaiming_uniform with a = √5 (PyTorch's Linear/Conv default):
 * gain = √(2 / (1 + a²)) = √(1/3), bound = √3 · gain / √fan_in = 1 / √fan_in.
 */
export function kaimingUniformBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}

/** The bound ±b of an init that draws uniformly, or null for the others. */
export function uniformBound(spec: InitSpec): number | null {
  switch (spec.kind) {
    case 'kaiming_uniform':
    case 'bias_uniform':
      return kaimingUniformBound(spec.fanIn);
    case 'xavier_uniform':
      return Math.sqrt(6 / (spec.fanIn + spec.fanOut));
    default:
      return null;
  }
}

export function initTensor(spec: InitSpec, shape: readonly number[], rng: Rng, dtype: DType = 'float32'): Tensor {
  const data = allocateFloat(dtype, shapeSize(shape));
  const bound = uniformBound(spec);
  switch (spec.kind) {
    case 'kaiming_uniform':
    case 'bias_uniform':
    case 'xavier_uniform':
      for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-bound!, bound!);
      break;
    case 'zeros':
      break;
    case 'ones':
      data.fill(1);
      break;
    case 'normal':
      for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, spec.std);
      if (spec.zeroRow !== undefined) data.fill(0, spec.zeroRow * shape[1], (spec.zeroRow + 1) * shape[1]);
      break;
  }
  return new Tensor(data, shape, dtype === 'int64' ? 'float32' : dtype);
}
