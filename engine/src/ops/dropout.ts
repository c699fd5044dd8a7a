// Dropout (a composition: x times a mask of 0 and 1/(1 − p)); the identity in eval mode.

import type { Tensor } from '../tensor/tensor.js';
import { defaultRng, type Rng } from '../random.js';
import { sameShapeRule } from '../shape/rules.js';
import { defineOp, number, tensor } from './def.js';
import { pyFloat } from './unary.js';
import { emptyFloat, requireFloat } from './operand.js';
import { mul } from './arithmetic.js';

export interface DropoutOptions {
  training: boolean;
  rng?: Rng;
}

export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  requireFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!options.training || p === 0) return x;
  const mask = emptyFloat(x.shape, x.dtype);
  fillDropoutMask(mask.values, p, options.rng ?? defaultRng());
  return mul(x, mask);
}

/**
 * A dropout mask drawn from `rng`: 0 with probability p, else 1/(1 − p). Both back ends draw
 * their masks with it from the same stream, one mask per dropout op in execution order, so a
 * run with dropout takes the same steps on either.
 */
export function fillDropoutMask(mask: Float32Array | Float64Array, p: number, rng: Rng): void {
  const keep = p === 1 ? 0 : 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < p ? 0 : keep;
}

// -- definitions ---------------------------------------------------------------------------

export const dropoutOp = defineOp({
  name: 'dropout',
  surface: 'function',
  params: [tensor('x', { aliases: ['input'] }), number('p', { default: 0.5, min: 0, below: 1, doc: 'the probability of zeroing an element' })],
  doc: { summary: 'Zeroes each element with probability `p` while training and scales the rest by `1/(1−p)`; the identity in eval mode.', gradient: 'dL/dx = g ⊙ mask / (1−p)' },
  shape: sameShapeRule,
  linearity: 'shape-only',
  sideEffect: 'draws a new random mask',
  ts: ([x], { p }, { mode }) => dropout(x, p, { training: mode.dropout, rng: mode.rng }),
  onnx: {
    forward: (ctx, [x], { p }) => {
      if (!ctx.mode.training || !ctx.mode.dropout || p === 0) return { outputs: [ctx.b.op1('Identity', [x.name])] };
      // The mask is an input the trainer fills with fillDropoutMask, as the TS engine draws it.
      const mask = ctx.dropoutMask(x.shape, p);
      return { outputs: [ctx.b.op1('Mul', [x.name, mask.name])], saved: { mask } };
    },
    backward: (ctx, { saved: { mask } }, g) => [mask ? ctx.binary('Mul', g, mask, g) : g],
  },
  pytorch: ([x], { p }, ctx) => `F.dropout(${x}, p=${pyFloat(p)}${ctx.inModule ? ', training=self.training' : ''})`,
});
