// Elementwise functions of one tensor: relu, leaky_relu, elu, selu, sigmoid, tanh, gelu,
// silu, mish, hardswish, hardtanh, softplus, exp, log, log1p, sqrt, abs, cos, sin, clamp. Each is one definition: its TS kernel
// (forward function and derivative from the input x and the output y), ONNX forward and
// backward, PyTorch form and docs; the shape rule is the identity.

import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { ruleError, sameShapeRule } from '../shape/rules.js';
import type { Shape } from '../shape/dim.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineOp, number, tensor, type ActivationKind, type OpDoc, type OnnxRules } from './def.js';
import { emptyFloat, requireFloat } from './operand.js';
import { erf } from './erf.js';
import { reluBackward, reluForward } from '../kernels/elementwise.js';

type Forward = (x: number) => number;
type Derivative = (x: number, y: number) => number;

function unary(op: string, x: Tensor, forward: Forward, derivative: Derivative): Tensor {
  requireFloat(op, x);
  const out = emptyFloat(x.shape, x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let i = 0; i < src.length; i++) dst[i] = forward(src[i]);
  return record(op, out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gd = grad.values;
    const up = g.values;
    // Where the derivative is 0 nothing passes, not 0 · g: as PyTorch's threshold backwards
    // (relu, hardtanh, clamp, hardswish) select, an Inf from above stays out of a unit that is off.
    for (let i = 0; i < gd.length; i++) {
      const d = derivative(src[i], dst[i]);
      gd[i] = d === 0 ? 0 : up[i] * d;
    }
    return [grad];
  }, [out]);
}

const sigmoidOf = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** PyTorch's softplus switches to the identity above this input (beta = 1). */
const SOFTPLUS_THRESHOLD = 20;

/** NOTE: relu has its own kernels rather than `unary`'s callbacks: it is the hot activation. */
export function relu(x: Tensor): Tensor {
  requireFloat('relu', x);
  const out = emptyFloat(x.shape, x.dtype);
  reluForward(x.values, out.values);
  return record('relu', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    reluBackward(g.values, out.values, grad.values);
    return [grad];
  }, [out]);
}

/** PyTorch's default negative slope. */
export const LEAKY_RELU_SLOPE = 0.01;

export const leakyRelu = (x: Tensor, slope = LEAKY_RELU_SLOPE): Tensor =>
  unary('leaky_relu', x, (v) => (v > 0 ? v : slope * v), (v) => (v > 0 ? 1 : slope));

export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, sigmoidOf, (_v, y) => y * (1 - y));

export const tanh = (x: Tensor): Tensor => unary('tanh', x, Math.tanh, (_v, y) => 1 - y * y);

/** The exact GELU, x·Φ(x), PyTorch's default (approximate = 'none'). */
export const gelu = (x: Tensor): Tensor =>
  unary(
    'gelu',
    x,
    (v) => 0.5 * v * (1 + erf(v * INV_SQRT2)),
    (v) => 0.5 * (1 + erf(v * INV_SQRT2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v),
  );

export const silu = (x: Tensor): Tensor =>
  unary('silu', x, (v) => v * sigmoidOf(v), (v) => {
    const s = sigmoidOf(v);
    return s * (1 + v * (1 - s));
  });

const softplusOf = (v: number): number => (v > SOFTPLUS_THRESHOLD ? v : Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))));

export const softplus = (x: Tensor): Tensor => unary('softplus', x, softplusOf, (v) => (v > SOFTPLUS_THRESHOLD ? 1 : sigmoidOf(v)));

export const exp = (x: Tensor): Tensor => unary('exp', x, Math.exp, (_v, y) => y);

export const log = (x: Tensor): Tensor => unary('log', x, Math.log, (v) => 1 / v);

export const log1p = (x: Tensor): Tensor => unary('log1p', x, Math.log1p, (v) => 1 / (1 + v));

export const cos = (x: Tensor): Tensor => unary('cos', x, Math.cos, (v) => -Math.sin(v));

export const sin = (x: Tensor): Tensor => unary('sin', x, Math.sin, (v) => Math.cos(v));

export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, Math.sqrt, (_v, y) => 0.5 / y);

/** |x|, with gradient sign(x) and 0 at 0, as in PyTorch. */
export const abs = (x: Tensor): Tensor => unary('abs', x, Math.abs, (v) => Math.sign(v));

// -- definitions ---------------------------------------------------------------------------

const x = tensor('x', { aliases: ['input'] });

/** The ONNX rules of an op that is one ONNX node forward, with its gradient from x, y and g. */
function oneNode(opType: string, gradient: (ctx: LoweringContext, x: Val, y: Val, g: Val) => Val): OnnxRules<unknown> {
  return {
    forward: (ctx, [input]) => ({ outputs: [ctx.b.op1(opType, [input.name])] }),
    backward: (ctx, { inputs: [input], outputs: [y] }, g) => [gradient(ctx, input, y, g)],
  };
}

/** An elementwise function of one tensor with no attributes. */
function elementwise<const N extends string>(
  name: N,
  doc: OpDoc,
  kernel: (x: Tensor) => Tensor,
  onnx: OnnxRules<unknown>,
  pytorch: string,
  activation?: ActivationKind,
) {
  return defineOp({
    name,
    surface: 'function',
    params: [x],
    doc,
    shape: sameShapeRule,
    ...(activation ? { activation } : {}),
    ts: ([input]) => kernel(input),
    onnx,
    pytorch: ([a]) => `${pytorch}(${a})`,
  });
}

const mul = (ctx: LoweringContext, a: Val, b: Val | string): Val => ctx.binary('Mul', a, b, a);

export const reluOp = elementwise(
  'relu',
  { torchClass: 'ReLU', summary: 'Rectified linear unit `max(x, 0)`.', derivative: '1[x > 0]', gradient: 'dL/dx = g ⊙ 1[x > 0]' },
  relu,
  // From relu's output rather than its input: y > 0 exactly where x > 0, and a conv whose
  // output only relu reads is fused with it by onnxruntime.
  oneNode('Relu', (ctx, _x, y, g) => ctx.passWherePositive(y, g)),
  'F.relu',
  { kind: 'rectifier' },
);

export const leakyReluOp = defineOp({
  name: 'leaky_relu',
  surface: 'function',
  params: [x, number('slope', { default: LEAKY_RELU_SLOPE, aliases: ['negative_slope'], doc: 'the slope for x ≤ 0' })],
  doc: { torchClass: 'LeakyReLU', summary: '`x` for `x > 0`, else `slope · x`.', derivative: '1[x > 0] + slope · 1[x ≤ 0]', gradient: 'dL/dx = g ⊙ (1[x > 0] + slope · 1[x ≤ 0])' },
  shape: sameShapeRule,
  ts: ([input], { slope }) => leakyRelu(input, slope),
  onnx: {
    forward: (ctx, [input], { slope }) => ({ outputs: [ctx.b.op1('LeakyRelu', [input.name], { alpha: { f: slope } })] }),
    backward: (ctx, { inputs: [input], attrs: { slope } }, g) => [ctx.where(ctx.b.op1('Greater', [input.name, ctx.zero()]), g, mul(ctx, g, ctx.scalar(slope)))],
  },
  pytorch: ([a], { slope }) => `F.leaky_relu(${a}, ${pyFloat(slope)})`,
});

export const sigmoidOp = elementwise(
  'sigmoid',
  { summary: 'Logistic function `σ(x) = 1 / (1 + e^−x)`; saturates for large `|x|`.', derivative: 'σ(x)(1 − σ(x)) ≤ 0.25', gradient: 'dL/dx = g ⊙ σ(x)(1 − σ(x))' },
  sigmoid,
  oneNode('Sigmoid', (ctx, _x, y, g) => mul(ctx, mul(ctx, g, y), ctx.binary('Sub', ctx.scalar(1), y, y))),
  'torch.sigmoid',
  {
    kind: 'saturating',
    bound: 0.25,
    derivative: (y) => y * (1 - y),
    formula: 'σ(1 − σ)',
  },
);

export const tanhOp = elementwise(
  'tanh',
  { summary: 'Hyperbolic tangent; saturates for large `|x|`.', derivative: '1 − tanh²(x) ≤ 1', gradient: 'dL/dx = g ⊙ (1 − tanh²(x))' },
  tanh,
  oneNode('Tanh', (ctx, _x, y, g) => mul(ctx, g, ctx.binary('Sub', ctx.scalar(1), mul(ctx, y, y), y))),
  'torch.tanh',
  {
    kind: 'saturating',
    bound: 1,
    derivative: (y) => 1 - y * y,
    formula: '1 − tanh²',
  },
);

export const geluOp = elementwise(
  'gelu',
  { torchClass: 'GELU', summary: 'Gaussian error linear unit `x · Φ(x)` (the exact form, PyTorch\'s default).', derivative: 'Φ(x) + x·φ(x)', gradient: 'dL/dx = g ⊙ (Φ(x) + x·φ(x))' },
  gelu,
  {
    forward: (ctx, [input]) => {
      // Exact (erf) GELU: x * Φ(x); Gelu itself is only in opset 20.
      const cdf = mul(ctx, ctx.binary('Add', ctx.unary('Erf', mul(ctx, input, ctx.scalar(Math.SQRT1_2))), ctx.scalar(1), input), ctx.scalar(0.5));
      return { outputs: [ctx.b.op1('Mul', [input.name, cdf.name])], saved: { cdf } };
    },
    backward: (ctx, { inputs: [input], saved: { cdf } }, g) => {
      // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = exp(-x²/2) / sqrt(2π).
      const pdf = mul(ctx, ctx.unary('Exp', mul(ctx, mul(ctx, input, input), ctx.scalar(-0.5))), ctx.scalar(INV_SQRT_2PI));
      return [mul(ctx, g, ctx.binary('Add', cdf, mul(ctx, input, pdf), input))];
    },
  },
  'F.gelu',
);

export const siluOp = elementwise(
  'silu',
  { torchClass: 'SiLU', summary: 'Sigmoid linear unit (swish) `x · σ(x)`.', derivative: 'σ(x)(1 + x(1 − σ(x)))', gradient: 'dL/dx = g ⊙ σ(x)(1 + x(1 − σ(x)))' },
  silu,
  {
    forward: (ctx, [input]) => {
      const s = ctx.unary('Sigmoid', input);
      return { outputs: [ctx.b.op1('Mul', [input.name, s.name])], saved: { s } };
    },
    backward: (ctx, { inputs: [input], saved: { s } }, g) => {
      // d/dx x·σ(x) = σ(x)·(1 + x·(1 - σ(x))).
      const inner = ctx.binary('Add', ctx.scalar(1), mul(ctx, input, ctx.binary('Sub', ctx.scalar(1), s, s)), input);
      return [mul(ctx, g, mul(ctx, s, inner))];
    },
  },
  'F.silu',
);

export const softplusOp = elementwise(
  'softplus',
  { summary: '`log(1 + e^x)`, a smooth ReLU.', derivative: 'σ(x)', gradient: 'dL/dx = g ⊙ σ(x)' },
  softplus,
  oneNode('Softplus', (ctx, input, _y, g) => mul(ctx, g, ctx.unary('Sigmoid', input))),
  'F.softplus',
);

export const expOp = elementwise(
  'exp',
  { summary: 'Elementwise `e^x`.', derivative: 'exp(x)', gradient: 'dL/dx = g ⊙ exp(x)' },
  exp,
  oneNode('Exp', (ctx, _x, y, g) => mul(ctx, g, y)),
  'torch.exp',
);

export const logOp = elementwise(
  'log',
  { summary: 'Elementwise natural logarithm.', derivative: '1/x', gradient: 'dL/dx = g / x' },
  log,
  oneNode('Log', (ctx, input, _y, g) => ctx.binary('Div', g, input, g)),
  'torch.log',
);

export const log1pOp = elementwise(
  'log1p',
  { summary: 'Elementwise `log(1 + x)`, accurate for small `x`.', derivative: '1/(1 + x)', gradient: 'dL/dx = g / (1 + x)' },
  log1p,
  {
    // ONNX has no Log1p: log(1 + x), the same value in float32 away from tiny x.
    forward: (ctx, [input]) => {
      const shifted = ctx.binary('Add', input, ctx.scalar(1), input);
      return { outputs: [ctx.b.op1('Log', [shifted.name])], saved: { shifted } };
    },
    backward: (ctx, { saved: { shifted } }, g) => [ctx.binary('Div', g, shifted, g)],
  },
  'torch.log1p',
);

export const cosOp = elementwise(
  'cos',
  { summary: 'Elementwise cosine.', derivative: '−sin(x)', gradient: 'dL/dx = −g ⊙ sin(x)' },
  cos,
  oneNode('Cos', (ctx, input, _y, g) => ctx.unary('Neg', mul(ctx, g, ctx.unary('Sin', input)))),
  'torch.cos',
);

export const sinOp = elementwise(
  'sin',
  { summary: 'Elementwise sine.', derivative: 'cos(x)', gradient: 'dL/dx = g ⊙ cos(x)' },
  sin,
  oneNode('Sin', (ctx, input, _y, g) => mul(ctx, g, ctx.unary('Cos', input))),
  'torch.sin',
);

export const sqrtOp = elementwise(
  'sqrt',
  { summary: 'Elementwise square root.', derivative: '1/(2√x)', gradient: 'dL/dx = g / (2√x)' },
  sqrt,
  oneNode('Sqrt', (ctx, _x, y, g) => ctx.binary('Div', mul(ctx, g, ctx.scalar(0.5)), y, g)),
  'torch.sqrt',
);

export const absOp = elementwise(
  'abs',
  { summary: 'Elementwise absolute value.', derivative: 'sign(x)', gradient: 'dL/dx = g ⊙ sign(x)' },
  abs,
  oneNode('Abs', (ctx, input, _y, g) => mul(ctx, g, ctx.unary('Sign', input))),
  'torch.abs',
);

/** PyTorch's default alpha of elu. */
export const ELU_ALPHA = 1;

export const elu = (x: Tensor, alpha = ELU_ALPHA): Tensor =>
  unary('elu', x, (v) => (v > 0 ? v : alpha * Math.expm1(v)), (v, y) => (v > 0 ? 1 : y + alpha));

export const eluOp = defineOp({
  name: 'elu',
  surface: 'function',
  params: [x, number('alpha', { default: ELU_ALPHA, doc: 'the value elu approaches for large negative x is −alpha' })],
  doc: { torchClass: 'ELU', summary: 'Exponential linear unit: `x` for `x > 0`, else `alpha · (e^x − 1)`.', derivative: '1[x > 0] + (y + alpha) · 1[x ≤ 0]', gradient: 'dL/dx = g ⊙ (1[x > 0] + alpha · e^x · 1[x ≤ 0])' },
  shape: sameShapeRule,
  ts: ([input], { alpha }) => elu(input, alpha),
  onnx: {
    forward: (ctx, [input], { alpha }) => ({ outputs: [ctx.b.op1('Elu', [input.name], { alpha: { f: alpha } })] }),
    backward: (ctx, { inputs: [input], outputs: [y], attrs: { alpha } }, g) => [
      ctx.where(ctx.b.op1('Greater', [input.name, ctx.zero()]), g, mul(ctx, g, ctx.binary('Add', y, ctx.scalar(alpha), y))),
    ],
  },
  pytorch: ([a], { alpha }) => `F.elu(${a}, alpha=${pyFloat(alpha)})`,
});

/** x · relu6(x + 3) / 6, with PyTorch's gradient at the kinks (0 below −3, the middle slope up to 3 inclusive). */
export const hardswish = (x: Tensor): Tensor =>
  unary('hardswish', x, (v) => (v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6), (v) => (v < -3 ? 0 : v <= 3 ? (2 * v + 3) / 6 : 1));

export const hardswishOp = elementwise(
  'hardswish',
  { summary: 'Hard swish `x · relu6(x + 3) / 6`, a cheap silu (MobileNetV3).', derivative: '0 for x < −3, (2x + 3)/6 up to 3, 1 above', gradient: 'dL/dx = g ⊙ (0 for x < −3, (2x + 3)/6 for −3 ≤ x ≤ 3, 1 for x > 3)' },
  hardswish,
  oneNode('HardSwish', (ctx, input, _y, g) => {
    const middle = mul(ctx, g, ctx.binary('Add', mul(ctx, input, ctx.scalar(1 / 3)), ctx.scalar(0.5), input));
    const upper = ctx.where(ctx.b.op1('Greater', [input.name, ctx.scalar(3)]), g, middle);
    return ctx.where(ctx.b.op1('GreaterOrEqual', [input.name, ctx.scalar(-3)]), upper, ctx.zero());
  }),
  'F.hardswish',
);

/** SELU's constants (Klambauer et al. 2017), as PyTorch has them. */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

/** scale · (x for x > 0, else alpha · (e^x − 1)). */
export const selu = (x: Tensor): Tensor =>
  unary('selu', x, (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v)), (v, y) => (v > 0 ? SELU_SCALE : y + SELU_SCALE * SELU_ALPHA));

export const seluOp = elementwise(
  'selu',
  { summary: 'Scaled exponential linear unit `scale · elu(x, alpha)` with the self-normalizing constants (alpha ≈ 1.6733, scale ≈ 1.0507).', derivative: 'scale for x > 0, else scale · alpha · e^x', gradient: 'dL/dx = g ⊙ (scale · 1[x > 0] + scale · alpha · e^x · 1[x ≤ 0])' },
  selu,
  {
    forward: (ctx, [input]) => ({ outputs: [ctx.b.op1('Selu', [input.name], { alpha: { f: SELU_ALPHA }, gamma: { f: SELU_SCALE } })] }),
    backward: (ctx, { inputs: [input], outputs: [y] }, g) => [
      ctx.where(ctx.b.op1('Greater', [input.name, ctx.zero()]), mul(ctx, g, ctx.scalar(SELU_SCALE)), mul(ctx, g, ctx.binary('Add', y, ctx.scalar(SELU_SCALE * SELU_ALPHA), y))),
    ],
  },
  'F.selu',
);

/** x · tanh(softplus(x)) (Misra 2019). */
export const mish = (x: Tensor): Tensor =>
  unary('mish', x, (v) => v * Math.tanh(softplusOf(v)), (v) => {
    const t = Math.tanh(softplusOf(v));
    return t + v * sigmoidOf(v) * (1 - t * t);
  });

export const mishOp = elementwise(
  'mish',
  { summary: 'Mish `x · tanh(softplus(x))`, a smooth, non-monotonic activation.', derivative: 'tanh(sp(x)) + x · σ(x) · (1 − tanh²(sp(x)))', gradient: 'dL/dx = g ⊙ (tanh(sp(x)) + x · σ(x) · (1 − tanh²(sp(x)))), sp = softplus' },
  mish,
  {
    // Mish itself is only in opset 18: Softplus, Tanh and Mul.
    forward: (ctx, [input]) => {
      const t = ctx.unary('Tanh', ctx.unary('Softplus', input));
      return { outputs: [ctx.b.op1('Mul', [input.name, t.name])], saved: { t } };
    },
    backward: (ctx, { inputs: [input], saved: { t } }, g) => {
      const sech2 = ctx.binary('Sub', ctx.scalar(1), mul(ctx, t, t), t);
      return [mul(ctx, g, ctx.binary('Add', t, mul(ctx, mul(ctx, input, ctx.unary('Sigmoid', input)), sech2), t))];
    },
  },
  'F.mish',
);

interface HardtanhAttrs {
  min: number;
  max: number;
}

/** x limited to [min, max]; the gradient passes strictly inside, as PyTorch's hardtanh_backward. */
export const hardtanh = (x: Tensor, min = -1, max = 1): Tensor =>
  unary('hardtanh', x, (v) => Math.min(Math.max(v, min), max), (v) => (v > min && v < max ? 1 : 0));

export const hardtanhOp = defineOp({
  name: 'hardtanh',
  surface: 'function',
  params: [x, number('min', { default: -1, aliases: ['min_val'], doc: 'the lower bound' }), number('max', { default: 1, aliases: ['max_val'], doc: 'the upper bound' })],
  doc: { summary: 'Linear in `(min, max)`, constant outside (−1 and 1 by default).', derivative: '1[min < x < max]', gradient: 'dL/dx = g ⊙ 1[min < x < max]' },
  shape: ([input]: readonly Shape[], { min, max }: HardtanhAttrs) => (min >= max ? ruleError('NN2007', ['hardtanh', 'min', `below max (${max})`, min], input) : { shape: input }),
  ts: ([input], { min, max }) => hardtanh(input, min, max),
  onnx: {
    forward: (ctx, [input], { min, max }) => ({ outputs: [ctx.b.op1('Clip', [input.name, ctx.scalar(min), ctx.scalar(max)])] }),
    backward: (ctx, { inputs: [input], attrs: { min, max } }, g) => {
      const inside = ctx.b.op1('And', [ctx.b.op1('Greater', [input.name, ctx.scalar(min)]), ctx.b.op1('Less', [input.name, ctx.scalar(max)])]);
      return [ctx.where(inside, g, ctx.zero())];
    },
  },
  pytorch: ([a], { min, max }) => `F.hardtanh(${a}, min_val=${pyFloat(min)}, max_val=${pyFloat(max)})`,
});

interface ClampAttrs {
  min: number | undefined;
  max: number | undefined;
}

/** x limited to [min, max] (either bound may be absent); the gradient passes where x is inside, bounds included. */
export const clamp = (x: Tensor, min?: number, max?: number): Tensor =>
  unary('clamp', x, (v) => Math.min(Math.max(v, min ?? -Infinity), max ?? Infinity), (v) => (v >= (min ?? -Infinity) && v <= (max ?? Infinity) ? 1 : 0));

export const clampOp = defineOp({
  name: 'clamp',
  surface: 'function',
  params: [x, number('min', { default: null, doc: 'the lower bound; none when absent' }), number('max', { default: null, doc: 'the upper bound; none when absent' })],
  doc: { summary: 'Limits values to `[min, max]`; either bound may be left out.', derivative: '1[min ≤ x ≤ max]', gradient: 'dL/dx = g ⊙ 1[min ≤ x ≤ max]' },
  shape: ([input]: readonly Shape[], { min, max }: ClampAttrs) =>
    min !== undefined && max !== undefined && min > max ? ruleError('NN2007', ['clamp', 'min', `at most max (${max})`, min], input) : { shape: input },
  ts: ([input], { min, max }) => clamp(input, min, max),
  onnx: {
    forward: (ctx, [input], { min, max }) => ({
      outputs: [ctx.b.op1('Clip', [input.name, min === undefined ? '' : ctx.scalar(min), max === undefined ? '' : ctx.scalar(max)])],
    }),
    backward: (ctx, { inputs: [input], attrs: { min, max } }, g) => {
      const inside = [
        ...(min === undefined ? [] : [ctx.b.op1('GreaterOrEqual', [input.name, ctx.scalar(min)])]),
        ...(max === undefined ? [] : [ctx.b.op1('LessOrEqual', [input.name, ctx.scalar(max)])]),
      ];
      if (inside.length === 0) return [g];
      return [ctx.where(inside.length === 1 ? inside[0] : ctx.b.op1('And', inside), g, ctx.zero())];
    },
  },
  pytorch: ([a], { min, max }) => `torch.clamp(${a}${min === undefined ? '' : `, min=${pyFloat(min)}`}${max === undefined ? '' : `, max=${pyFloat(max)}`})`,
});

/** A number as a Python float literal. */
export function pyFloat(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}
