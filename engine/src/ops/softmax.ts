// softmax and log_softmax along an axis: primitives (not compositions) so the max is
// subtracted for stability and the backward rules never form the softmax Jacobian.

import type { Tensor } from '../tensor/tensor.js';
import { splitAtAxis } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { formatShape, type Shape } from '../shape/dim.js';
import { normalizeAxis, ruleError, type RuleResult } from '../shape/rules.js';
import { axis as axisParam, defineOp, tensor } from './def.js';
import { resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';
import { softmaxKernel } from '../kernels/softmax.js';

/** softmax, or log_softmax; the two differ only in the kernel's output and the backward formula. */
function softmaxAlong(op: 'softmax' | 'log_softmax', x: Tensor, axis: number): Tensor {
  requireFloat(op, x);
  if (normalizeAxis(axis, x.rank) === null) throw new RangeError(`${op}: axis ${axis} is out of range for rank ${x.rank}`);
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

// -- definitions ---------------------------------------------------------------------------

const alongAxisRule = ([x]: readonly Shape[], { axis }: { axis: number }): RuleResult =>
  normalizeAxis(axis, x.length) === null ? ruleError('NN2109', [axis, formatShape(x)], x) : { shape: x };

const params = [tensor('x', { aliases: ['input'] }), axisParam('axis', { default: -1, aliases: ['dim'] })] as const;

export const softmaxOp = defineOp({
  name: 'softmax',
  surface: 'function',
  params,
  doc: { summary: 'Normalized exponentials along `axis`. Feed logits, not softmax, to `cross_entropy`.', gradient: 'dL/dx = s ⊙ (g − Σ(g ⊙ s)), s = softmax(x)' },
  shape: alongAxisRule,
  ts: ([x], { axis }) => softmax(x, axis),
  onnx: {
    forward: (ctx, [x], { axis }) => ({ outputs: [ctx.b.op1('Softmax', [x.name], { axis: resolveAxis(axis, x.shape.length) })] }),
    backward: (ctx, { outputs: [y], attrs }, g) => {
      const dot = ctx.sum(ctx.binary('Mul', g, y, g), [resolveAxis(attrs.axis, y.shape.length)], true);
      return [ctx.binary('Mul', y, ctx.binary('Sub', g, dot, g), g)];
    },
  },
  pytorch: ([x], { axis }) => `F.softmax(${x}, dim=${axis})`,
});

export const logSoftmaxOp = defineOp({
  name: 'log_softmax',
  surface: 'function',
  params,
  doc: { summary: 'Log of softmax along `axis`, computed stably.', gradient: 'dL/dx = g − softmax(x) · Σ g' },
  shape: alongAxisRule,
  ts: ([x], { axis }) => logSoftmax(x, axis),
  onnx: {
    forward: (ctx, [x], { axis }) => ({ outputs: [ctx.b.op1('LogSoftmax', [x.name], { axis: resolveAxis(axis, x.shape.length) })] }),
    backward: (ctx, { outputs: [y], attrs }, g) => {
      const total = ctx.sum(g, [resolveAxis(attrs.axis, y.shape.length)], true);
      return [ctx.binary('Sub', g, ctx.binary('Mul', ctx.unary('Exp', y), total, g), g)];
    },
  },
  pytorch: ([x], { axis }) => `F.log_softmax(${x}, dim=${axis})`,
});
