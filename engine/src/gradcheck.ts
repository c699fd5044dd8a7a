// gradcheck: compares the tape's gradients with central finite differences in float64,
// with PyTorch's default tolerances (eps 1e-6, atol 1e-5, rtol 1e-3), like
// torch.autograd.gradcheck.

import { Tensor, cast } from './tensor/tensor.js';
import { formatDims } from './tensor/shape.js';
import { propagate, noGrad } from './autograd/tape.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** The largest |analytic − numeric| over all Jacobian entries. */
  maxAbsError: number;
  /** The first failing entry, described, or '' when ok. */
  message: string;
}

/**
 * Checks every Jacobian entry d(output_j)/d(input_i) of `fn` for each float input. Inputs
 * are copied to float64 leaves that require a gradient; int64 inputs pass through as they are.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const leaves = inputs.map((x) => (x.dtype === 'int64' ? x : new Tensor(cast(x, 'float64').data.slice(), x.shape, 'float64', true)));
  const checked = leaves.filter((x) => x.requiresGrad);
  const output = fn(...leaves);
  if (output.dtype !== 'float64') {
    return { ok: false, maxAbsError: Infinity, message: `the function returned ${output.dtype}; it must compute in the inputs' float64` };
  }
  // Analytic Jacobian, one backward pass per output element.
  const analytic = checked.map((x) => new Float64Array(output.size * x.size));
  for (let j = 0; j < output.size; j++) {
    const seed = new Tensor(new Float64Array(output.size), output.shape, 'float64');
    seed.values[j] = 1;
    const reached = output.requiresGrad ? propagate(output, seed, new Set(checked)) : new Map<Tensor, Tensor>();
    checked.forEach((x, k) => {
      const grad = reached.get(x);
      if (grad) analytic[k].set(grad.values, j * x.size);
    });
  }
  // Numeric Jacobian by central differences, one input element at a time.
  let maxAbsError = 0;
  let message = '';
  checked.forEach((x, k) => {
    const values = x.values;
    for (let i = 0; i < x.size; i++) {
      const original = values[i];
      values[i] = original + eps;
      // Copies: the output may be a view of the input (reshape) that the next line changes.
      const plus = noGrad(() => fn(...leaves)).values.slice();
      values[i] = original - eps;
      const minus = noGrad(() => fn(...leaves)).values.slice();
      values[i] = original;
      for (let j = 0; j < output.size; j++) {
        const numeric = (plus[j] - minus[j]) / (2 * eps);
        const exact = analytic[k][j * x.size + i];
        const error = Math.abs(exact - numeric);
        maxAbsError = Math.max(maxAbsError, error);
        if (!message && !(error <= atol + rtol * Math.abs(numeric))) {
          message = `input ${leaves.indexOf(x)} ${formatDims(x.shape)} element ${i}, output element ${j}: analytic ${exact}, numeric ${numeric}`;
        }
      }
    }
  });
  return { ok: message === '', maxAbsError, message };
}

/** The central difference (f(x + eps) − f(x − eps)) / 2·eps of a scalar `f` in element `k` of `values`, restored after. */
export function centralDifference(values: Float64Array, k: number, f: () => number, eps: number): number {
  const original = values[k];
  values[k] = original + eps;
  const plus = f();
  values[k] = original - eps;
  const minus = f();
  values[k] = original;
  return (plus - minus) / (2 * eps);
}
