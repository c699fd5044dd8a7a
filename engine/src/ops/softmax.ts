// softmax and log_softmax along an axis: primitives (not compositions) so the max is
// subtracted for stability and the backward rules never form the softmax Jacobian.

import type { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { inferShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';
import { softmaxKernel } from '../kernels/softmax.js';

/** softmax, or log_softmax; the two differ only in the kernel's output and the backward formula. */
function softmaxAlong(op: 'softmax' | 'log_softmax', x: Tensor, axis: number): Tensor {
  requireFloat(op, x);
  inferShape(op, [x.shape], { axis });
  const { outer, length, inner } = splitAtAxis(x.shape, resolveAxis(axis, x.rank));
  const isLog = op === 'log_softmax';
  const out = emptyFloat(x.shape, x.dtype);
  const y = out.values;
  softmaxKernel(x.values, y, outer, length, inner, !isLog);
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const up = g.values;
    const gd = grad.values;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * length * inner + i;
        if (isLog) {
          // dx = g − softmax ⊙ Σ g along the axis.
          let total = 0;
          for (let l = 0; l < length; l++) total += up[base + l * inner];
          for (let l = 0; l < length; l++) gd[base + l * inner] = up[base + l * inner] - Math.exp(y[base + l * inner]) * total;
        } else {
          // dx = y ⊙ (g − Σ g⊙y) along the axis.
          let dot = 0;
          for (let l = 0; l < length; l++) dot += up[base + l * inner] * y[base + l * inner];
          for (let l = 0; l < length; l++) gd[base + l * inner] = y[base + l * inner] * (up[base + l * inner] - dot);
        }
      }
    }
    return [grad];
  }, [out]);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong('softmax', x, axis);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong('log_softmax', x, axis);
}
