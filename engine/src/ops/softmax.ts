// softmax and log_softmax along an axis: primitives (not compositions) so the max is
// subtracted for stability and the backward rules never form the softmax Jacobian.

import type { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { inferShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';
import { softmaxKernel } from '../kernels/softmax.js';

function layout(op: 'softmax' | 'log_softmax', x: Tensor, axis: number): { outer: number; length: number; inner: number } {
  requireFloat(op, x);
  inferShape(op, [x.shape], { axis });
  return splitAtAxis(x.shape, resolveAxis(axis, x.rank));
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const { outer, length, inner } = layout('softmax', x, axis);
  const out = emptyFloat(x.shape, x.dtype);
  const y = out.values;
  softmaxKernel(x.values, y, outer, length, inner, true);
  // dx = y ⊙ (g − Σ g⊙y) along the axis.
  return record('softmax', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    const gd = grad.values;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * length * inner + i;
        let dot = 0;
        for (let l = 0; l < length; l++) dot += up[base + l * inner] * y[base + l * inner];
        for (let l = 0; l < length; l++) gd[base + l * inner] = y[base + l * inner] * (up[base + l * inner] - dot);
      }
    }
    return [grad];
  }, [out]);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const { outer, length, inner } = layout('log_softmax', x, axis);
  const out = emptyFloat(x.shape, x.dtype);
  const y = out.values;
  softmaxKernel(x.values, y, outer, length, inner, false);
  // dx = g − softmax ⊙ Σ g along the axis.
  return record('log_softmax', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    const gd = grad.values;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * length * inner + i;
        let total = 0;
        for (let l = 0; l < length; l++) total += up[base + l * inner];
        for (let l = 0; l < length; l++) gd[base + l * inner] = up[base + l * inner] - Math.exp(y[base + l * inner]) * total;
      }
    }
    return [grad];
  }, [out]);
}
