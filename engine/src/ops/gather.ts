// The TS kernel of the layout ops that take each output entry from one input entry
// (`permute`, `expand`, `repeat`): the output's source offsets, a gather forward and a
// scatter-add backward (an input entry read several times gets the sum of its gradients).

import { record } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyFloat, requireFloat } from './operand.js';

/** How one output axis walks the input: `stride` per step (0: a broadcast), wrapping every `period` steps (repeat's tiles). */
export interface AxisWalk {
  stride: number;
  period: number;
}

/** The input offset of every output entry, the output's axes walking the input as `walks` say. */
function sourceOffsets(outShape: readonly number[], walks: readonly AxisWalk[]): Int32Array {
  const size = outShape.reduce((a, b) => a * b, 1);
  const offsets = new Int32Array(size);
  const rank = outShape.length;
  const index = new Array<number>(rank).fill(0);
  const phase = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let o = 0; o < size; o++) {
    offsets[o] = offset;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const { stride, period } = walks[axis];
      index[axis]++;
      phase[axis]++;
      offset += stride;
      if (phase[axis] === period) {
        offset -= stride * period;
        phase[axis] = 0;
      }
      if (index[axis] < outShape[axis]) break;
      offset -= stride * phase[axis];
      index[axis] = 0;
      phase[axis] = 0;
    }
  }
  return offsets;
}

/** `out[o] = x[source(o)]` over an output of `outShape`; the gradient adds g back at each source. */
export function gather(op: string, x: Tensor, outShape: readonly number[], walks: readonly AxisWalk[]): Tensor {
  requireFloat(op, x);
  const offsets = sourceOffsets(outShape, walks);
  const out = emptyFloat(outShape, x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let o = 0; o < offsets.length; o++) dst[o] = src[offsets[o]];
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gv = g.values;
    const into = grad.values;
    for (let o = 0; o < offsets.length; o++) into[offsets[o]] += gv[o];
    return [grad];
  });
}
