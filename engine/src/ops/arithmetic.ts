// The arithmetic operators: `+ - * /` with NumPy broadcasting (or a number operand), unary
// `-`, and `**` with a number exponent. Backward rules sum each gradient back over the
// operand's broadcast axes.

import { Tensor } from '../tensor/tensor.js';
import { sameShape } from '../tensor/shape.js';
import { broadcastBinary, sumToShape, type BinaryCode } from '../kernels/elementwise.js';
import { record } from '../autograd/tape.js';
import { broadcast, sameShapeRule, type RuleResult } from '../shape/rules.js';
import type { Shape } from '../shape/dim.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineOpWith } from './def.js';
import { outputShape } from './shape-rule.js';
import { pyFloat } from './unary.js';
import { asTensor, emptyFloat, requireFloat, resultDType, type Operand } from './operand.js';

/** Elementwise a (op) b into a new tensor of the broadcast shape. */
export function compute(code: BinaryCode, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const out = emptyFloat(shape, resultDType(a, b));
  broadcastBinary(code, a.values, a.shape, b.values, b.shape, out.values, shape);
  return out;
}

/** A gradient of the output's shape summed down to `input`'s shape. */
export function reduceGradTo(grad: Tensor, input: Tensor): Tensor {
  if (sameShape(grad.shape, input.shape)) return grad;
  const out = emptyFloat(input.shape, grad.dtype);
  sumToShape(grad.values, grad.shape, out.values, input.shape);
  return out;
}

function operands(op: keyof typeof BINARY_OPS, a: Operand, b: Operand): [Tensor, Tensor, number[]] {
  const ta = asTensor(a, b);
  const tb = asTensor(b, a);
  requireFloat(op, ta, tb);
  return [ta, tb, outputShape(BINARY_OPS[op], [ta.shape, tb.shape], {})];
}

export function add(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('add', a, b);
  return record('add', compute('add', x, y, shape), [x, y], (g) => [reduceGradTo(g, x), reduceGradTo(g, y)]);
}

export function sub(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('sub', a, b);
  return record('sub', compute('sub', x, y, shape), [x, y], (g) => [
    reduceGradTo(g, x),
    y.requiresGrad ? reduceGradTo(negate(g), y) : null,
  ]);
}

export function mul(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('mul', a, b);
  return record('mul', compute('mul', x, y, shape), [x, y], (g) => [
    x.requiresGrad ? reduceGradTo(compute('mul', g, y, g.shape), x) : null,
    y.requiresGrad ? reduceGradTo(compute('mul', g, x, g.shape), y) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  const [x, y, shape] = operands('div', a, b);
  const out = compute('div', x, y, shape);
  // d(x/y)/dy = -out / y, so the rule reuses the output instead of squaring y.
  return record('div', out, [x, y], (g) => [
    x.requiresGrad ? reduceGradTo(compute('div', g, y, g.shape), x) : null,
    y.requiresGrad ? reduceGradTo(negate(compute('div', compute('mul', g, out, g.shape), y, g.shape)), y) : null,
  ], [out]);
}

function negate(x: Tensor): Tensor {
  const out = emptyFloat(x.shape, x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let i = 0; i < src.length; i++) dst[i] = -src[i];
  return out;
}

export function neg(x: Tensor): Tensor {
  requireFloat('neg', x);
  return record('neg', negate(x), [x], (g) => [negate(g)]);
}

/** x ** exponent for a number exponent (the language's `**`). */
export function pow(x: Tensor, exponent: number): Tensor {
  requireFloat('pow', x);
  const out = emptyFloat(x.shape, x.dtype);
  const src = x.values;
  const dst = out.values;
  for (let i = 0; i < src.length; i++) dst[i] = Math.pow(src[i], exponent);
  return record('pow', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gd = grad.values;
    const up = g.values;
    for (let i = 0; i < gd.length; i++) gd[i] = up[i] * exponent * Math.pow(src[i], exponent - 1);
    return [grad];
  });
}


// -- definitions ---------------------------------------------------------------------------

/** `+ - * /` take two tensors, or one tensor and a number (`x * 2`, `1 - x`). */
export interface ElementwiseAttrs {
  /** The number operand when there is one tensor input. */
  scalar?: number;
  /** The number is the left operand (`2 - x`). */
  scalarFirst?: boolean;
}

export const elementwiseRule = (shapes: readonly Shape[]): RuleResult => (shapes.length < 2 ? { shape: shapes[0] } : broadcast(shapes[0], shapes[1]));

/** A two-tensor op, or the same op with its number operand on the side the attributes say. */
export function withOperand(attrs: ElementwiseAttrs, inputs: Tensor[], fn: (a: Operand, b: Operand) => Tensor): Tensor {
  if (inputs.length === 2 || attrs.scalar === undefined) return fn(inputs[0], inputs[1]);
  return attrs.scalarFirst === true ? fn(attrs.scalar, inputs[0]) : fn(inputs[0], attrs.scalar);
}

/** The ONNX inputs of a binary op: the tensors, with a number operand as a constant on its side. */
export function onnxOperands(ctx: LoweringContext, inputs: Val[], attrs: ElementwiseAttrs): [string, string] {
  if (inputs.length === 2 || attrs.scalar === undefined) return [inputs[0].name, inputs[1].name];
  const scalar = ctx.scalar(attrs.scalar);
  return attrs.scalarFirst === true ? [scalar, inputs[0].name] : [inputs[0].name, scalar];
}

export function pyOperands(args: string[], attrs: ElementwiseAttrs): [string, string] {
  if (args.length === 2 || attrs.scalar === undefined) return [args[0], args[1]];
  const scalar = pyFloat(attrs.scalar);
  return attrs.scalarFirst === true ? [scalar, args[0]] : [args[0], scalar];
}

const elementwiseOp = defineOpWith<ElementwiseAttrs>();

function binaryDef<const N extends 'add' | 'sub' | 'mul' | 'div'>(
  name: N,
  symbol: '+' | '-' | '*' | '/',
  fn: (a: Operand, b: Operand) => Tensor,
  summary: string,
  gradient: string,
  backward: (ctx: LoweringContext, a: Val, b: Val | null, y: Val, g: Val, attrs: ElementwiseAttrs, needs: boolean[]) => (Val | null)[],
) {
  return elementwiseOp({
    name,
    surface: 'operator',
    notation: { kind: 'infix', symbol, operands: 'elementwise' },
    params: [],
    doc: { summary, gradient },
    takesMasks: true,
    shape: elementwiseRule,
    ts: (inputs, attrs) => withOperand(attrs, inputs, fn),
    onnx: {
      forward: (ctx, inputs, attrs) => ({ outputs: [ctx.b.op1(ONNX_OPS[name], onnxOperands(ctx, inputs, attrs))] }),
      backward: (ctx, { inputs: [a, b], outputs: [y], attrs }, g, needs) => backward(ctx, a, b ?? null, y, g, attrs, needs),
    },
    pytorch: (args, attrs) => {
      const [a, b] = pyOperands(args, attrs);
      return `${a} ${symbol} ${b}`;
    },
  });
}

const ONNX_OPS = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' } as const;

const mulBy = (ctx: LoweringContext, g: Val, factor: Val | string): Val => ctx.binary('Mul', g, factor, g);

export const addOp = binaryDef('add', '+', add, 'Elementwise sum with NumPy broadcasting.', 'dL/da = g, dL/db = g, each summed over the axes it was broadcast along',
  (ctx, a, b, _y, g, _attrs, needs) => [needs[0] ? ctx.reduceToShape(g, a.shape) : null, b && needs[1] ? ctx.reduceToShape(g, b.shape) : null]);

export const subOp = binaryDef('sub', '-', sub, 'Elementwise difference with NumPy broadcasting.', 'dL/da = g, dL/db = −g, each summed over the axes it was broadcast along',
  (ctx, a, b, _y, g, attrs, needs) => {
    if (b === null) return [attrs.scalarFirst === true ? ctx.unary('Neg', g) : g];
    return [needs[0] ? ctx.reduceToShape(g, a.shape) : null, needs[1] ? ctx.reduceToShape(ctx.unary('Neg', g), b.shape) : null];
  });

export const mulOp = binaryDef('mul', '*', mul, 'Elementwise product with NumPy broadcasting.', 'dL/da = g ⊙ b, dL/db = g ⊙ a, each summed over the axes it was broadcast along',
  (ctx, a, b, _y, g, attrs, needs) => {
    if (b === null) return [mulBy(ctx, g, ctx.scalar(attrs.scalar ?? 1))];
    return [needs[0] ? ctx.reduceToShape(mulBy(ctx, g, b), a.shape) : null, needs[1] ? ctx.reduceToShape(mulBy(ctx, g, a), b.shape) : null];
  });

export const divOp = binaryDef('div', '/', div, 'Elementwise quotient with NumPy broadcasting.', 'dL/da = g / b, dL/db = −g ⊙ (a / b) / b, each summed over the axes it was broadcast along',
  (ctx, a, b, y, g, attrs, needs) => {
    // d(a/b)/db = −y / b, from the output rather than squaring b.
    if (b === null) {
      if (attrs.scalarFirst === true) return [ctx.unary('Neg', ctx.binary('Div', mulBy(ctx, g, y), a, g))];
      return [ctx.binary('Div', g, ctx.scalar(attrs.scalar ?? 1), g)];
    }
    return [
      needs[0] ? ctx.reduceToShape(ctx.binary('Div', g, b, g), a.shape) : null,
      needs[1] ? ctx.reduceToShape(ctx.unary('Neg', ctx.binary('Div', mulBy(ctx, g, y), b, g)), b.shape) : null,
    ];
  });

const BINARY_OPS = { add: addOp, sub: subOp, mul: mulOp, div: divOp } as const;

export const negOp = defineOpWith<Record<string, never>>()({
  name: 'neg',
  surface: 'operator',
  notation: { kind: 'prefix', symbol: '-' },
  params: [],
  doc: { summary: 'Unary minus.', gradient: 'dL/dx = −g' },
  shape: sameShapeRule,
  ts: ([x]) => neg(x),
  onnx: {
    forward: (ctx, [x]) => ({ outputs: [ctx.b.op1('Neg', [x.name])] }),
    backward: (ctx, _entry, g) => [ctx.unary('Neg', g)],
  },
  pytorch: ([x]) => `-${x}`,
});

export const powOp = defineOpWith<{ exponent: number }>()({
  name: 'pow',
  surface: 'operator',
  notation: { kind: 'infix', symbol: '**', operands: { numberAttr: 'exponent' } },
  params: [],
  doc: { summary: '`x ** p` for a number exponent `p`.', derivative: 'p · x^(p−1)', gradient: 'dL/dx = g ⊙ p · x^(p−1)' },
  shape: sameShapeRule,
  ts: ([x], { exponent }) => pow(x, exponent),
  onnx: {
    forward: (ctx, [x], { exponent }) => ({ outputs: [ctx.b.op1('Pow', [x.name, ctx.scalar(exponent)])] }),
    backward: (ctx, { inputs: [x], attrs: { exponent } }, g) => {
      const dydx = mulBy(ctx, ctx.binary('Pow', x, ctx.scalar(exponent - 1), x), ctx.scalar(exponent));
      return [mulBy(ctx, g, dydx)];
    },
  },
  pytorch: ([x], { exponent }) => `${x} ** ${exponent}`,
});

