// Builds an optimizer from the checked IR's `OptimizerSpec` (the `train` block's optimizer).

import type { OptimizerSpec } from '../lang/api.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam, AdamW } from './adam.js';

export function optimizerFromSpec(spec: OptimizerSpec, params: readonly Tensor[]): Optimizer {
  if (spec.kind === 'SGD') return new SGD(params, { lr: spec.lr, momentum: spec.momentum, weightDecay: spec.weightDecay });
  const options = { lr: spec.lr, beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay };
  return spec.kind === 'Adam' ? new Adam(params, options) : new AdamW(params, options);
}
