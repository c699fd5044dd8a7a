// Builds an optimizer from the checked IR's `OptimizerSpec` (the `train` block's optimizer),
// with the parameters a `no_decay` exempts from weight decay.

import type { OptimizerSpec } from '../lang/api.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam, AdamW } from './adam.js';
import { RMSprop } from './rmsprop.js';

function build(spec: OptimizerSpec, params: readonly Tensor[]): Optimizer {
  if (spec.kind === 'SGD') return new SGD(params, { lr: spec.lr, momentum: spec.momentum, weightDecay: spec.weightDecay, nesterov: spec.nesterov ?? false });
  if (spec.kind === 'RMSprop') return new RMSprop(params, { lr: spec.lr, alpha: spec.alpha, eps: spec.eps, weightDecay: spec.weightDecay, momentum: spec.momentum });
  const options = { lr: spec.lr, beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay };
  return spec.kind === 'Adam' ? new Adam(params, options) : new AdamW(params, options);
}

/** The optimizer over `params`; `noDecay[i]` true: parameter i gets no weight decay. */
export function optimizerFromSpec(spec: OptimizerSpec, params: readonly Tensor[], noDecay: readonly boolean[] = []): Optimizer {
  const optimizer = build(spec, params);
  noDecay.forEach((exempt, i) => { if (exempt) optimizer.noDecay.add(i); });
  return optimizer;
}
