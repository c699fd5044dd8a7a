// `einsum("bij,bjk->bik", a, b)`: Einstein summation over lettered axes, as torch.einsum, with
// an explicit (`->`) or implicit output and `...` for broadcast axes. The equation is parsed
// here once for the shape rule, both kernels and the PyTorch form; the gradient of each
// operand is itself an einsum, of the upstream gradient with the other operands.

import { record } from '../autograd/tape.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { stridesOf } from '../tensor/shape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { broadcast, elementCount, type RuleArg, type RuleError, type MalformedEquation, type RuleErrorCode, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineOp, string, tensors } from './def.js';
import { outputShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

/** One term of an equation: its letters, and where its `...` stands among them (-1: nowhere). */
interface Term {
  letters: string;
  ellipsis: number;
}

/** A checked equation, its output written out (the implicit one as PyTorch forms it). */
interface Equation {
  inputs: Term[];
  output: Term;
}

const ELLIPSIS = '...';

/** The term as written: `b...ij`. */
function termText({ letters, ellipsis }: Term): string {
  return ellipsis < 0 ? letters : letters.slice(0, ellipsis) + ELLIPSIS + letters.slice(ellipsis);
}

/** The equation with its output explicit: what ONNX's Einsum and torch.einsum both read the same way. */
function explicitText({ inputs, output }: Equation): string {
  return `${inputs.map(termText).join(',')}->${termText(output)}`;
}

/** An error about the equation argument. */
function equationError(code: RuleErrorCode, args: RuleArg[]): { error: RuleError } {
  return { error: { code, args, argument: { param: 'equation' } } };
}

const malformed = (text: string, id: `NN2170/${MalformedEquation}`, detail = '') => equationError(id, [text, detail]);

function parseTerm(raw: string, text: string): Term | { error: RuleError } {
  const ellipsis = raw.indexOf(ELLIPSIS);
  if (ellipsis >= 0 && raw.indexOf(ELLIPSIS, ellipsis + 1) >= 0) return malformed(text, 'NN2170/twoEllipses', raw);
  const letters = ellipsis < 0 ? raw : raw.slice(0, ellipsis) + raw.slice(ellipsis + ELLIPSIS.length);
  const stray = [...letters].find((c) => !/[a-zA-Z]/.test(c));
  if (stray !== undefined) return stray === '.' ? malformed(text, 'NN2170/strayDot') : malformed(text, 'NN2170/notLetter', stray);
  return { letters, ellipsis };
}

/** The equation checked on its own, before any operand is looked at. */
function parseEquation(text: string): { equation: Equation } | { error: RuleError } {
  const sides = text.replace(/\s+/g, '').split('->');
  if (sides.length > 2) return malformed(text, 'NN2170/twoArrows');
  const inputs: Term[] = [];
  for (const raw of sides[0].split(',')) {
    const term = parseTerm(raw, text);
    if ('error' in term) return term;
    const repeated = [...term.letters].find((c, k) => term.letters.indexOf(c) !== k);
    if (repeated !== undefined) return equationError('NN2175', [termText(term), repeated]);
    inputs.push(term);
  }
  const withEllipsis = inputs.some((term) => term.ellipsis >= 0);
  const count = new Map<string, number>();
  for (const term of inputs) for (const c of term.letters) count.set(c, (count.get(c) ?? 0) + 1);
  if (sides.length === 1) {
    // PyTorch's implicit output: the broadcast axes, then the letters used once, in alphabetical order.
    const letters = [...count].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
    return { equation: { inputs, output: { letters, ellipsis: withEllipsis ? 0 : -1 } } };
  }
  const output = parseTerm(sides[1], text);
  if ('error' in output) return output;
  const repeated = [...output.letters].find((c, k) => output.letters.indexOf(c) !== k);
  if (repeated !== undefined) return malformed(text, 'NN2170/outputRepeats', repeated);
  const unknown = [...output.letters].find((c) => !count.has(c));
  if (unknown !== undefined) return equationError('NN2174', [unknown, text]);
  if (output.ellipsis >= 0 && !withEllipsis) return malformed(text, 'NN2170/outputEllipsis');
  if (output.ellipsis < 0 && withEllipsis) return malformed(text, 'NN2170/keepEllipsis');
  return { equation: { inputs, output } };
}

/** Where a term's letters stand among its operand's axes, given how many axes its `...` covers. */
function letterAxis(term: Term, letter: number, covered: number): number {
  return term.ellipsis >= 0 && letter >= term.ellipsis ? letter + covered : letter;
}

const einsumRule = (shapes: readonly Shape[], { equation: text }: { equation: string }): RuleResult => {
  const parsed = parseEquation(text);
  if ('error' in parsed) return parsed;
  const { inputs, output } = parsed.equation;
  if (inputs.length !== shapes.length) return equationError('NN2171', [text, inputs.length, shapes.length]);
  const sizes = new Map<string, { dim: Dim; input: number }>();
  let broadcastAxes: Shape = [];
  for (let k = 0; k < inputs.length; k++) {
    const term = inputs[k];
    const shape = shapes[k];
    const named = term.letters.length;
    const argument = { input: k };
    if (term.ellipsis < 0 ? shape.length !== named : shape.length < named) {
      return { error: { code: 'NN2172', args: [termText(term), term.ellipsis < 0 ? named : `at least ${named}`, { input: k }, formatShape(shape)], argument } };
    }
    const covered = shape.length - named;
    for (let j = 0; j < named; j++) {
      const letter = term.letters[j];
      const dim = shape[letterAxis(term, j, covered)];
      const seen = sizes.get(letter);
      if (seen === undefined) sizes.set(letter, { dim, input: k });
      else if (!seen.dim.equals(dim)) return { error: { code: 'NN2173', args: [letter, seen.dim.toString(), { input: seen.input }, dim.toString(), { input: k }], argument } };
    }
    if (term.ellipsis >= 0) {
      const joined = broadcast(broadcastAxes, shape.slice(term.ellipsis, term.ellipsis + covered));
      if ('error' in joined) return { error: { ...joined.error, argument } };
      broadcastAxes = joined.shape;
    }
  }
  const letters = [...output.letters].map((c) => sizes.get(c)!.dim);
  if (output.ellipsis < 0) return { shape: letters };
  return { shape: [...letters.slice(0, output.ellipsis), ...broadcastAxes, ...letters.slice(output.ellipsis)] };
};

// -- the TS kernel ---------------------------------------------------------------------------

/** A tensor's axes labelled: letters, and `…k` for the k-th broadcast axis (counted in the output's). */
interface Labelled {
  values: ArrayLike<number>;
  shape: readonly number[];
  labels: readonly string[];
}

/** Each axis's label for a term over an operand of `rank` axes, when `...` spans `broadcastRank` axes in all. */
function labelsOf(term: Term, rank: number, broadcastRank: number): string[] {
  const covered = term.ellipsis < 0 ? 0 : rank - term.letters.length;
  const own = [...term.letters];
  if (term.ellipsis < 0) return own;
  const axes = Array.from({ length: covered }, (_, k) => `…${broadcastRank - covered + k}`);
  return [...own.slice(0, term.ellipsis), ...axes, ...own.slice(term.ellipsis)];
}

/** The labels of every operand and the output, and each label's size, for constant shapes. */
function labelling(text: string, shapes: readonly (readonly number[])[], outShape: readonly number[]) {
  const parsed = parseEquation(text);
  if ('error' in parsed) throw new RangeError(`einsum: ${text}`);
  const { inputs, output } = parsed.equation;
  const broadcastRank = output.ellipsis < 0 ? 0 : outShape.length - output.letters.length;
  const inputLabels = inputs.map((term, k) => labelsOf(term, shapes[k].length, broadcastRank));
  const outputLabels = labelsOf(output, outShape.length, broadcastRank);
  const sizes = new Map<string, number>();
  inputLabels.forEach((labels, k) => labels.forEach((label, axis) => sizes.set(label, Math.max(sizes.get(label) ?? 1, shapes[k][axis]))));
  return { inputLabels, outputLabels, sizes };
}

/** Offset steps of `t` along each label of the space (0 where it lacks the label or broadcasts it). */
function stepsIn(t: Labelled, space: readonly string[]): number[] {
  const strides = stridesOf(t.shape);
  return space.map((label) => {
    const axis = t.labels.indexOf(label);
    return axis < 0 || t.shape[axis] === 1 ? 0 : strides[axis];
  });
}

/**
 * out += Π factors over every combination of the labels' values. NOTE: a plain loop over the
 * whole index space, with no GEMM: `@` is the fast path for a large matrix product.
 */
function contract(sizes: ReadonlyMap<string, number>, factors: readonly Labelled[], out: Labelled & { values: FloatArray }): void {
  // The output's labels innermost-last, the summed ones after them (innermost).
  const space = [...out.labels.filter((l) => sizes.has(l)), ...[...sizes.keys()].filter((l) => !out.labels.includes(l))];
  const extent = space.map((l) => sizes.get(l)!);
  if (extent.some((n) => n === 0)) return;
  const steps = factors.map((f) => stepsIn(f, space));
  const outSteps = stepsIn(out, space);
  const offsets = new Array<number>(factors.length).fill(0);
  const index = new Array<number>(space.length).fill(0);
  const total = extent.reduce((a, n) => a * n, 1);
  let at = 0;
  for (let t = 0; t < total; t++) {
    let product = 1;
    for (let f = 0; f < factors.length; f++) product *= factors[f].values[offsets[f]];
    out.values[at] += product;
    for (let axis = space.length - 1; axis >= 0; axis--) {
      index[axis]++;
      for (let f = 0; f < factors.length; f++) offsets[f] += steps[f][axis];
      at += outSteps[axis];
      if (index[axis] < extent[axis]) break;
      for (let f = 0; f < factors.length; f++) offsets[f] -= steps[f][axis] * extent[axis];
      at -= outSteps[axis] * extent[axis];
      index[axis] = 0;
    }
  }
}

export function einsum(equation: string, operands: readonly Tensor[]): Tensor {
  requireFloat('einsum', ...operands);
  const shape = outputShape(einsumOp, operands.map((x) => x.shape), { equation });
  const { inputLabels, outputLabels, sizes } = labelling(equation, operands.map((x) => x.shape), shape);
  const labelled = operands.map((x, k): Labelled => ({ values: x.values, shape: x.shape, labels: inputLabels[k] }));
  const out = emptyFloat(shape, resultDType(...operands));
  contract(sizes, labelled, { values: out.values, shape, labels: outputLabels });
  // dL/dxₖ: the upstream gradient times the other operands, summed onto xₖ's axes (broadcast ones too).
  return record('einsum', out, operands, (g) =>
    operands.map((x, k) => {
      if (!x.requiresGrad) return null;
      const grad = emptyFloat(x.shape, g.dtype);
      const others = labelled.filter((_, j) => j !== k);
      contract(sizes, [{ values: g.values, shape: g.shape, labels: outputLabels }, ...others], { ...labelled[k], values: grad.values });
      return grad;
    }),
  );
}

// -- the ONNX gradient -----------------------------------------------------------------------

/**
 * dL/dxₖ as ONNX's Einsum of g with the other operands, onto xₖ's letters with `...` first;
 * then summed over the axes xₖ broadcast, expanded along its letters used nowhere else
 * (an Einsum output letter must come from an input), and transposed to xₖ's order.
 */
function operandGradient(ctx: LoweringContext, equation: Equation, inputs: readonly Val[], k: number, g: Val, broadcastAxes: Shape): Val {
  const term = equation.inputs[k];
  const others = equation.inputs.filter((_, j) => j !== k);
  const elsewhere = new Set([...equation.output.letters, ...others.flatMap((t) => [...t.letters])]);
  const kept = [...term.letters].filter((c) => elsewhere.has(c));
  const lonely = [...term.letters].filter((c) => !elsewhere.has(c));
  const x = inputs[k];
  const covered = x.shape.length - term.letters.length;
  const sizeOf = (c: string) => x.shape[letterAxis(term, term.letters.indexOf(c), covered)];
  // With `...` in the equation (so in g), the gradient keeps the broadcast axes first, even where xₖ has none.
  const lead = equation.output.ellipsis < 0 ? '' : ELLIPSIS;
  const gradEquation = `${[equation.output, ...others].map(termText).join(',')}->${lead}${kept.join('')}`;
  const operands = [g, ...others.map((t, j) => alignedBroadcast(ctx, t, inputs.filter((_, i) => i !== k)[j], broadcastAxes.length))];
  let grad = ctx.op('Einsum', operands.map((v) => v.name), { equation: gradEquation }, [...(lead ? broadcastAxes : []), ...kept.map(sizeOf)]);
  const ownBroadcast = term.ellipsis < 0 ? [] : x.shape.slice(term.ellipsis, term.ellipsis + covered);
  grad = ctx.reduceToShape(grad, [...ownBroadcast, ...kept.map(sizeOf)]);
  // Axes in the order built: xₖ's broadcast axes, its kept letters, its lonely letters.
  const order = [...ownBroadcast.map((_, j) => term.ellipsis + j), ...[...kept, ...lonely].map((c) => letterAxis(term, term.letters.indexOf(c), covered))];
  if (lonely.length > 0) {
    const built = order.map((axis) => x.shape[axis]);
    const axes = lonely.map((_, j) => ownBroadcast.length + kept.length + j);
    const unsqueezed = ctx.op('Unsqueeze', [grad.name, ctx.b.constInt(axes)], {}, built.map((d, j) => (axes.includes(j) ? Dim.of(1) : d)));
    const builtShape = ctx.b.op1('Gather', [ctx.b.op1('Shape', [x.name]), ctx.b.constInt(order)], { axis: 0 });
    grad = ctx.op('Expand', [unsqueezed.name, builtShape], {}, built);
  }
  if (order.every((axis, j) => axis === j)) return grad;
  const perm = x.shape.map((_, axis) => order.indexOf(axis));
  return ctx.op('Transpose', [grad.name], { perm }, x.shape);
}

/**
 * The operand with its `...` widened by unit axes to the broadcast rank: ONNX's Einsum wants
 * every `...` to span as many axes (unit axes then broadcast as NumPy's do).
 */
function alignedBroadcast(ctx: LoweringContext, term: Term, v: Val, broadcastRank: number): Val {
  const missing = term.ellipsis < 0 ? 0 : broadcastRank - (v.shape.length - term.letters.length);
  if (missing === 0) return v;
  const axes = Array.from({ length: missing }, (_, j) => term.ellipsis + j);
  const shape = [...v.shape.slice(0, term.ellipsis), ...axes.map(() => Dim.of(1)), ...v.shape.slice(term.ellipsis)];
  return ctx.op('Unsqueeze', [v.name, ctx.b.constInt(axes)], {}, shape);
}

function checkedEquation(text: string): Equation {
  const parsed = parseEquation(text);
  if ('error' in parsed) throw new RangeError(`einsum: ${text} passed no check`);
  return parsed.equation;
}

/** The broadcast axes `...` stands for in the output of the equation. */
function broadcastAxesOf(equation: Equation, out: Shape): Shape {
  const { output } = equation;
  return output.ellipsis < 0 ? [] : out.slice(output.ellipsis, output.ellipsis + out.length - output.letters.length);
}

export const einsumOp = defineOp({
  name: 'einsum',
  surface: 'function',
  params: [
    string('equation', { doc: 'the subscripts: a term of letters per operand, `->` and the output\'s (`"bij,bjk->bik"`); `...` for broadcast axes' }),
    tensors('operands', { doc: 'the tensors, one per term' }),
  ],
  doc: {
    summary: 'Einstein summation (torch.einsum): each operand\'s axes named by the letters of its term, products summed over the letters the output leaves out (`einsum("bhqd,bhkd->bhqk", q, k)`).',
    gradient: 'dL/dxₖ = einsum of g with the other operands onto xₖ\'s letters (`"ij,jk->ik"`: dL/da = einsum("ik,jk->ij", g, b)), summed over broadcast axes',
  },
  shape: einsumRule,
  // One multiply per extra operand and one add per combination of every letter's values.
  flops: (inputs, output, { equation }) => {
    const parsed = checkedEquation(equation);
    const terms = parsed.inputs;
    const letters = new Map<string, Dim>();
    terms.forEach((term, k) => [...term.letters].forEach((c, j) => letters.set(c, inputs[k][letterAxis(term, j, inputs[k].length - term.letters.length)])));
    const broadcastAxes = broadcastAxesOf(parsed, output);
    return elementCount([...letters.values(), ...broadcastAxes]).scale(terms.length);
  },
  ts: (operands, { equation }) => einsum(equation, operands),
  onnx: {
    forward: (ctx, operands, { equation: text }, [out]) => {
      const equation = checkedEquation(text);
      const rank = broadcastAxesOf(equation, out.shape).length;
      const aligned = operands.map((v, k) => alignedBroadcast(ctx, equation.inputs[k], v, rank));
      return { outputs: [ctx.b.op1('Einsum', aligned.map((v) => v.name), { equation: explicitText(equation) })] };
    },
    backward: (ctx, { inputs, attrs, outputs }, g, needs) => {
      const equation = checkedEquation(attrs.equation);
      const broadcastAxes = broadcastAxesOf(equation, outputs[0].shape);
      return inputs.map((_, k) => (needs[k] ? operandGradient(ctx, equation, inputs, k, g, broadcastAxes) : null));
    },
  },
  pytorch: (operands, { equation }) => `torch.einsum(${JSON.stringify(equation)}, ${operands.join(', ')})`,
});
