// gradcheck of user-written `grad` blocks: on small random float64 inputs, the grad block's
// gradients are compared with central finite differences of the fn's forward graph. The fn's
// output is projected on a random tensor R (L = Σ R·f(x)), so one grad-block evaluation with
// g = R gives dL/dx for every input, and each input element needs two forward evaluations.

import type { CheckResult, FnIR } from '../lang/api.js';
import { Dim } from '../shape/dim.js';
import { expandGroups, patternOf } from '../shape/binding.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { Rng } from '../random.js';
import { centralDifference } from '../gradcheck.js';
import { evaluateGraph, type GraphContext } from '../backend-ts/lower.js';
import { checkErrors, type RunError } from './prepare.js';
import { checkProgram } from '../lang/program.js';

/** Finite-difference step and tolerances: PyTorch's gradcheck defaults. */
export const GRADCHECK_EPS = 1e-6;
export const GRADCHECK_ATOL = 1e-5;
export const GRADCHECK_RTOL = 1e-3;
/** Symbolic dims (B, I, O...) get these sizes in order of appearance, kept small. */
const DIM_SIZES = [3, 4, 2, 5];

export interface InputCheck {
  name: string;
  maxAbsError: number;
  maxRelError: number;
}

export interface FnCheck {
  fn: string;
  ok: boolean;
  inputs: InputCheck[];
}

/**
 * Concrete sizes for a fn's symbolic dims, the same size for the same name; each variadic
 * group (`*S`) written out as `groupRank` dims.
 */
function concreteShapes(fn: FnIR, groupRank: number): number[][] {
  const sizes = new Map<string, Dim>();
  const sizeOf = (name: string): Dim => {
    if (!sizes.has(name)) sizes.set(name, Dim.of(DIM_SIZES[sizes.size % DIM_SIZES.length]));
    return sizes.get(name)!;
  };
  return fn.forward.inputs.map((id) =>
    expandGroups(patternOf(fn.forward.values[id].shape), groupRank).map((d) => {
      const dim = d as Dim;
      for (const name of dim.names()) sizeOf(name);
      return dim.substitute(sizes).constant() ?? 2;
    }),
  );
}

/** A variadic group stands for any number of dims: a fn with one is checked with each of these group sizes. */
const GROUP_RANKS = [1, 2, 3];

function hasGroups(fn: FnIR): boolean {
  return fn.forward.inputs.some((id) => patternOf(fn.forward.values[id].shape).some((d) => !(d instanceof Dim)));
}

function randomTensor(shape: number[], rng: Rng, dtype: 'float64' | 'int64'): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'int64' ? new Int32Array(size) : Float64Array.from({ length: size }, () => rng.uniform(-1, 1));
  return new Tensor(data, shape, dtype);
}

export function checkFn(fn: FnIR, fns: ReadonlyMap<string, FnIR>, seed = 0): FnCheck | null {
  if (!fn.backward) return null;
  const checks = (hasGroups(fn) ? GROUP_RANKS : [1]).map((rank) => checkAtRank(fn, fns, seed, rank));
  return {
    fn: fn.name,
    ok: checks.every((c) => c.ok),
    inputs: checks[0].inputs.map((input, i) => ({
      name: input.name,
      maxAbsError: Math.max(...checks.map((c) => c.inputs[i].maxAbsError)),
      maxRelError: Math.max(...checks.map((c) => c.inputs[i].maxRelError)),
    })),
  };
}

function checkAtRank(fn: FnIR, fns: ReadonlyMap<string, FnIR>, seed: number, groupRank: number): FnCheck {
  const backward = fn.backward!;
  const rng = new Rng(seed);
  const context: GraphContext = {
    fns,
    lineOf: () => 0,
    mode: { dropout: false, batchNormTraining: false, rng, detectNonFinite: false },
  };
  const inputs = concreteShapes(fn, groupRank).map((shape, i) => randomTensor(shape, rng, fn.forward.values[fn.forward.inputs[i]].dtype === 'int64' ? 'int64' : 'float64'));
  const forward = (): Tensor => noGrad(() => evaluateGraph(fn.forward, inputs, new Map(), context)[0]);
  const output = forward();
  const projection = randomTensor([...output.shape], rng, 'float64');
  const projected = (): number => {
    const out = forward().data;
    let total = 0;
    for (let i = 0; i < out.length; i++) total += out[i] * projection.data[i];
    return total;
  };
  const analytic = noGrad(() => evaluateGraph(backward.graph, [...inputs, projection], new Map(), context, backward.gradOutputs));
  let ok = true;
  const checks = inputs.map((input, i): InputCheck => {
    const name = fn.forward.values[fn.forward.inputs[i]].name ?? `input ${i}`;
    if (input.dtype === 'int64') return { name, maxAbsError: 0, maxRelError: 0 };
    let maxAbsError = 0;
    let maxRelError = 0;
    const values = input.data as Float64Array;
    const exact = analytic[i].data;
    if (analytic[i].shape.length !== input.shape.length || analytic[i].shape.some((n, k) => n !== input.shape[k])) {
      ok = false;
      return { name, maxAbsError: Infinity, maxRelError: Infinity };
    }
    for (let k = 0; k < values.length; k++) {
      const numeric = centralDifference(values, k, projected, GRADCHECK_EPS);
      const error = Math.abs(exact[k] - numeric);
      maxAbsError = Math.max(maxAbsError, error);
      maxRelError = Math.max(maxRelError, error / Math.max(Math.abs(numeric), Math.abs(exact[k]), 1e-12));
      if (!(error <= GRADCHECK_ATOL + GRADCHECK_RTOL * Math.abs(numeric))) ok = false;
    }
    return { name, maxAbsError, maxRelError };
  });
  return { fn: fn.name, ok, inputs: checks };
}

/**
 * Checks every fn with a grad block (or only `only`); errors when the file does not check, and
 * `unknownFn` when `only` names no fn with a grad block (a wrong option, not a wrong program).
 */
export function gradcheckProgram(text: string, options: { only?: string; check?: CheckResult } = {}): { errors: RunError[] } | { unknownFn: string; withGrad: string[] } | { fns: FnCheck[] } {
  const check = options.check ?? checkProgram(text);
  const errors = checkErrors(check);
  if (errors.length > 0) return { errors };
  const selected = [...check.fnIrs.values()].filter((fn) => fn.backward && (options.only === undefined || fn.name === options.only));
  if (options.only !== undefined && selected.length === 0) {
    return { unknownFn: options.only, withGrad: [...check.fnIrs.values()].filter((fn) => fn.backward).map((fn) => fn.name) };
  }
  return { fns: selected.map((fn) => checkFn(fn, check.fnIrs)).filter((c): c is FnCheck => c !== null) };
}
