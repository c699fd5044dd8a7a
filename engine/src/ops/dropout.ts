// Dropout (a composition: x times a mask of 0 and 1/(1 − p)); the identity in eval mode.

import type { Tensor } from '../tensor/tensor.js';
import { defaultRng, type Rng } from '../random.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';
import { mul } from './arithmetic.js';

export interface DropoutOptions {
  training: boolean;
  rng?: Rng;
}

export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  requireFloat('dropout', x);
  inferShape('dropout', [x.shape], { p });
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!options.training || p === 0) return x;
  const rng = options.rng ?? defaultRng();
  const mask = emptyFloat(x.shape, x.dtype);
  const keep = p === 1 ? 0 : 1 / (1 - p);
  const m = mask.values;
  for (let i = 0; i < m.length; i++) m[i] = rng.next() < p ? 0 : keep;
  return mul(x, mask);
}
