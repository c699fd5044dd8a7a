// Layout ops: transpose, reshape (and flatten, a reshape), concat, detach. They move
// values without arithmetic; the gradient moves back the same way.

import { Tensor } from '../tensor/tensor.js';
import { splitAtAxis, stridesOf } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, normalizeAxis, ruleError, sameShapeRule, type RuleResult } from '../shape/rules.js';
import { axis as axisParam, defineOp, dims, tensor, tensors, type OpDef, type PytorchContext } from './def.js';
import { constantShape, outputShape, resolveAxis } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

/** Copies `src` (of `shape`) with axes a and b swapped into `dst`. */
function swapAxes(src: ArrayLike<number>, dst: Float32Array | Float64Array, shape: readonly number[], a: number, b: number): void {
  const rank = shape.length;
  const inStrides = stridesOf(shape);
  const outShape = [...shape];
  [outShape[a], outShape[b]] = [outShape[b], outShape[a]];
  // For each output index, the input offset moves by the input stride of the swapped axis.
  const step = [...inStrides];
  [step[a], step[b]] = [step[b], step[a]];
  const index = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let o = 0; o < dst.length; o++) {
    dst[o] = src[offset];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      offset += step[axis];
      if (index[axis] < outShape[axis]) break;
      offset -= step[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  requireFloat('transpose', x);
  const shape = outputShape(transposeOp, [x.shape], { a, b });
  const axisA = resolveAxis(a, x.rank);
  const axisB = resolveAxis(b, x.rank);
  const out = emptyFloat(shape, x.dtype);
  swapAxes(x.values, out.values, x.shape, axisA, axisB);
  return record('transpose', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    swapAxes(g.values, grad.values, g.shape, axisA, axisB);
    return [grad];
  });
}

/** A view with new dims (one may be -1); the data is shared, as in PyTorch's view. */
export function reshape(x: Tensor, target: readonly number[]): Tensor {
  const shape = outputShape(reshapeOp, [x.shape], { shape: constantShape(target) });
  const out = new Tensor(x.data, shape, x.dtype);
  return record('reshape', out, [x], (g) => [new Tensor(g.data, x.shape, g.dtype)]);
}

/** Flattens the axes from `start` on into one (composition: a reshape). */
export function flatten(x: Tensor, start = 1): Tensor {
  return reshape(x, outputShape(flattenOp, [x.shape], { start, end: -1 }));
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new RangeError('concat: needs at least one tensor');
  requireFloat('concat', ...xs);
  const shape = outputShape(concatOp, xs.map((x) => x.shape), { axis });
  const resolved = resolveAxis(axis, shape.length);
  const { outer, inner } = splitAtAxis(shape, resolved);
  const out = emptyFloat(shape, xs.some((x) => x.dtype === 'float64') ? 'float64' : 'float32');
  const dst = out.values;
  const rowLength = shape[resolved] * inner;
  const starts: number[] = [];
  let start = 0;
  for (const x of xs) {
    starts.push(start);
    const chunk = x.shape[resolved] * inner;
    const src = x.values;
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * chunk, (o + 1) * chunk), o * rowLength + start);
    start += chunk;
  }
  return record('concat', out, xs, (g) =>
    xs.map((x, k) => {
      if (!x.requiresGrad) return null;
      const chunk = x.shape[resolved] * inner;
      const grad = emptyFloat(x.shape, g.dtype);
      for (let o = 0; o < outer; o++) {
        grad.values.set(g.values.subarray(o * rowLength + starts[k], o * rowLength + starts[k] + chunk), o * chunk);
      }
      return grad;
    }),
  );
}

/** The same values, cut from the tape: no gradient flows back through it. */
export function detach(x: Tensor): Tensor {
  return x.detach();
}

// -- definitions ---------------------------------------------------------------------------

const x = tensor('x', { aliases: ['input'] });

const transposeRule = ([input]: readonly Shape[], attrs: { a: number; b: number }): RuleResult => {
  const a = normalizeAxis(attrs.a, input.length);
  const b = normalizeAxis(attrs.b, input.length);
  if (a === null) return ruleError('NN2109', [attrs.a, formatShape(input)]);
  if (b === null) return ruleError('NN2109', [attrs.b, formatShape(input)]);
  const out = [...input];
  [out[a], out[b]] = [out[b], out[a]];
  return { shape: out };
};

/** The permutation that swaps axes a and b of a rank-`rank` tensor. */
function swapPermutation(rank: number, attrs: { a: number; b: number }): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  const a = resolveAxis(attrs.a, rank);
  const b = resolveAxis(attrs.b, rank);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return perm;
}

export const transposeOp = defineOp({
  name: 'transpose',
  surface: 'function',
  params: [x, axisParam('a', { aliases: ['dim0'] }), axisParam('b', { aliases: ['dim1'] })],
  doc: { summary: 'Swaps axes `a` and `b`.', gradient: 'dL/dx = transpose(g, a, b)' },
  shape: transposeRule,
  keepsDtype: true,
  linearity: 'shape-only',
  ts: ([input], { a, b }) => transpose(input, a, b),
  onnx: {
    forward: (ctx, [input], attrs) => ({ outputs: [ctx.b.op1('Transpose', [input.name], { perm: swapPermutation(input.shape.length, attrs) })] }),
    backward: (ctx, { inputs: [input], attrs }, g) => [ctx.op('Transpose', [g.name], { perm: swapPermutation(input.shape.length, attrs) }, input.shape)],
  },
  pytorch: ([input], { a, b }) => `${input}.transpose(${a}, ${b})`,
});

const reshapeRule = ([input]: readonly Shape[], { shape: target }: { shape: Shape }): RuleResult => {
  const inferred = target.findIndex((d) => d.constant() === -1);
  const total = elementCount(input);
  if (inferred >= 0) {
    const known = elementCount(target.filter((_, k) => k !== inferred));
    const missing = total.floorDiv(known);
    const out = target.map((d, k) => (k === inferred ? missing : d));
    // No dim fills the gap: the result is unknown (it fits anything after the error).
    if (!missing.mul(known).equals(total)) return ruleError('NN2106', [formatShape(input), total.toString(), formatShape(target), `a multiple of ${known}`]);
    return { shape: out };
  }
  const count = elementCount(target);
  if (!count.equals(total)) return ruleError('NN2106', [formatShape(input), total.toString(), formatShape(target), count.toString()]);
  return { shape: target };
};

/**
 * The Python target shape of a reshape to `target` from inputs of `ctx.inShapes`: constants,
 * the input's own dims as `x.shape[i]` (so any batch size works), -1 for what is left.
 */
function pythonShape(input: string, target: Shape, ctx: PytorchContext): string {
  const source = ctx.inShapes[0];
  const atom = (name: string): string | null => {
    const at = source.findIndex((d) => d.singleName() === name);
    return at < 0 ? ctx.inputDim(name) : `${input}.shape[${at}]`;
  };
  let inferredUsed = false;
  const parts = target.map((d) => {
    const rendered = d.render(atom);
    if (rendered !== null) return rendered;
    if (inferredUsed) throw new Error(`reshape to ${formatShape(target)}: more than one dim is not a function of the input's dims`);
    inferredUsed = true;
    return '-1';
  });
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}

/** A reshape to the node's checked output shape (so a -1 is already resolved). */
const reshapeTo: Pick<OpDef<unknown>, 'keepsDtype' | 'namesOrigin' | 'linearity' | 'ts' | 'onnx' | 'pytorch'> = {
  keepsDtype: true,
  namesOrigin: true,
  linearity: 'shape-only',
  ts: ([input], _attrs, ctx) => reshape(input, ctx.concrete(ctx.outShape)),
  onnx: {
    forward: (ctx, [input], _attrs, [out]) => ({ outputs: [ctx.reshape(input, out.shape).name] }),
    backward: (ctx, { inputs: [input] }, g) => [ctx.reshape(g, input.shape, [input, g])],
  },
  pytorch: ([input], _attrs, ctx) => `${input}.reshape${pythonShape(input, ctx.outShape, ctx)}`,
};

export const reshapeOp = defineOp({
  name: 'reshape',
  surface: 'function',
  params: [x, dims('shape', { inferable: true, doc: '[dims], one of them may be -1' })],
  doc: { summary: 'Same elements, new shape; the element count must not change.', gradient: 'dL/dx = reshape(g, shape of x)' },
  shape: reshapeRule,
  ...reshapeTo,
});

const flattenRule = ([input]: readonly Shape[], attrs: { start: number; end: number }): RuleResult => {
  if (input.length === 0) return { shape: [Dim.of(1)] };
  const start = normalizeAxis(attrs.start, input.length);
  const end = normalizeAxis(attrs.end, input.length);
  if (start === null) return ruleError('NN2109', [attrs.start, formatShape(input)]);
  if (end === null) return ruleError('NN2109', [attrs.end, formatShape(input)]);
  if (end < start) return { shape: input };
  return { shape: [...input.slice(0, start), elementCount(input.slice(start, end + 1)), ...input.slice(end + 1)] };
};

export const flattenOp = defineOp({
  name: 'flatten',
  surface: 'function',
  params: [x, axisParam('start', { default: 1, aliases: ['start_dim'] }), axisParam('end', { default: -1, aliases: ['end_dim'] })],
  doc: { summary: 'Merges the axes from `start` to `end` into one.', gradient: 'dL/dx = reshape(g, shape of x)' },
  shape: flattenRule,
  ...reshapeTo,
  // torch.flatten itself: a reshape's target may hold dims (a pooled symbolic size) that are no name of the input's.
  pytorch: ([input], { start, end }) => `torch.flatten(${input}, ${start}, ${end})`,
});

const concatRule = (inputs: readonly Shape[], attrs: { axis: number }): RuleResult => {
  const first = inputs[0];
  const axis = normalizeAxis(attrs.axis, first.length);
  if (axis === null) return ruleError('NN2109', [attrs.axis, formatShape(first)]);
  let total = first[axis];
  for (const other of inputs.slice(1)) {
    const fits = other.length === first.length && other.every((d, k) => k === axis || d.equals(first[k]));
    if (!fits) return ruleError('NN2107', [attrs.axis, formatShape(first), formatShape(other)]);
    total = total.add(other[axis]);
  }
  return { shape: first.map((d, k) => (k === axis ? total : d)) };
};

export const concatOp = defineOp({
  name: 'concat',
  surface: 'function',
  params: [tensors('xs', { doc: 'the tensors, or one list of them' }), axisParam('axis', { default: 0, aliases: ['dim'] })],
  doc: { summary: 'Joins tensors along `axis`; the other dims must agree.', gradient: 'dL/dxᵢ = the slice of g that xᵢ filled' },
  shape: concatRule,
  linearity: 'shape-only',
  ts: (inputs, { axis }) => concat(inputs, axis),
  onnx: {
    forward: (ctx, inputs, { axis }) => ({ outputs: [ctx.b.op1('Concat', inputs.map((v) => v.name), { axis: resolveAxis(axis, inputs[0].shape.length) })] }),
    backward: (ctx, { inputs, attrs }, g) => {
      const axis = resolveAxis(attrs.axis, inputs[0].shape.length);
      const sizes = inputs.map((v) => ctx.constantDims([v.shape[axis]], 'concat over an axis')[0]);
      const parts = ctx.b.op('Split', [g.name, ctx.b.constInt(sizes)], { axis }, inputs.length);
      return parts.map((name, i) => ({ name, shape: inputs[i].shape, dtype: 'float32' as const }));
    },
  },
  pytorch: (args, { axis }) => `torch.cat([${args.join(', ')}], dim=${axis})`,
});

export const detachOp = defineOp({
  name: 'detach',
  surface: 'function',
  params: [x],
  doc: { summary: 'The same values, with the gradient stopped: nothing upstream learns through it.', gradient: 'dL/dx = 0 (no gradient flows)' },
  shape: sameShapeRule,
  keepsDtype: true,
  gradInputs: () => [],
  ts: ([input]) => detach(input),
  onnx: {
    forward: (ctx, [input]) => ({ outputs: [ctx.b.op1('Identity', [input.name])] }),
    backward: () => [null],
  },
  pytorch: ([input]) => `${input}.detach()`,
});
