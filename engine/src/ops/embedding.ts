// The embedding primitive: gathers rows of a [num, dim] weight by int64 ids; the backward
// rule scatter-adds the upstream rows into the weight's gradient.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

export function embedding(ids: Tensor, weight: Tensor): Tensor {
  if (ids.dtype !== 'int64') throw new TypeError(`embedding: ids must be an int64 tensor, got ${ids.dtype}`);
  requireFloat('embedding', weight);
  const shape = inferShape('embedding', [ids.shape, weight.shape], {});
  const [count, dim] = weight.shape;
  const index = ids.data;
  for (let i = 0; i < index.length; i++) {
    if (index[i] < 0 || index[i] >= count) throw new RangeError(`embedding: id ${index[i]} at position ${i} is outside [0, ${count})`);
  }
  const out = emptyFloat(shape, weight.dtype);
  const table = weight.values;
  for (let i = 0; i < index.length; i++) out.values.set(table.subarray(index[i] * dim, (index[i] + 1) * dim), i * dim);
  return record('embedding', out, [weight], (g) => {
    const grad = emptyFloat(weight.shape, g.dtype);
    const gw = grad.values;
    const up = g.values;
    for (let i = 0; i < index.length; i++) {
      const row = index[i] * dim;
      for (let d = 0; d < dim; d++) gw[row + d] += up[i * dim + d];
    }
    return [grad];
  }, [ids]);
}
