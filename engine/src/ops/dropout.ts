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
  const rng = options.rng ?? defaultRng();
  const mask = emptyFloat(x.shape, x.dtype);
  const keep = p === 1 ? 0 : 1 / (1 - p);
  const m = mask.values;
  for (let i = 0; i < m.length; i++) m[i] = rng.next() < p ? 0 : keep;
  return mul(x, mask);
}

// -- definitions ---------------------------------------------------------------------------

export const dropoutOp = defineOp({
  name: 'dropout',
  surface: 'function',
  params: [tensor('x', { aliases: ['input'] }), number('p', { default: 0.5, min: 0, below: 1, doc: 'the probability of zeroing an element' })],
  doc: { summary: 'Zeroes each element with probability `p` while training and scales the rest by `1/(1−p)`; the identity in eval mode.', gradient: 'dL/dx = g ⊙ mask / (1−p)' },
  shape: sameShapeRule,
  linearity: 'shape-only',
  ts: ([x], { p }, { mode }) => dropout(x, p, { training: mode.dropout, rng: mode.rng }),
  onnx: {
    forward: (ctx, [x], { p }) => {
      if (!ctx.mode.training || !ctx.mode.dropout || p === 0) return { outputs: [ctx.b.op1('Identity', [x.name])] };
      const on = ctx.b.op1('Cast', [ctx.b.constInt(1, [])], { to: 9 });
      const [y, mask] = ctx.b.op('Dropout', [x.name, ctx.scalar(p), on], {}, 2);
      return { outputs: [y], saved: { mask: { name: mask, shape: x.shape, dtype: 'float32' } } };
    },
    backward: (ctx, { attrs: { p }, saved: { mask } }, g) => {
      if (!mask) return [g];
      const kept = ctx.binary('Mul', g, ctx.b.op1('Cast', [mask.name], { to: 1 }), g);
      return [ctx.binary('Mul', kept, ctx.scalar(1 / (1 - p)), g)];
    },
  },
  pytorch: ([x], { p }, ctx) => `F.dropout(${x}, p=${pyFloat(p)}${ctx.inModule ? ', training=self.training' : ''})`,
});
