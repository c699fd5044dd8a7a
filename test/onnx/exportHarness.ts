// Shared by the export tests: a checked example, weights with non-trivial batch-norm
// statistics, a random batch, and the TS engine's eval-mode forward as the reference.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult, ModelIR } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { lowerModel } from '../../engine/src/backend-ts/lower.js';
import { Rng } from '../../engine/src/random.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { noGrad } from '../../engine/src/index.js';
import { initialWeights, randomBatches } from './parityHarness.js';

export interface ExportCase {
  file: string;
  text: string;
  check: CheckResult;
  model: ModelIR;
  weights: Map<string, Float32Array>;
  input: { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int64' };
  /** The TS engine's eval-mode output for `input` with `weights`. */
  expected: { data: Float32Array; shape: number[] };
}

/** `file` is under `examples/` unless it names a folder. */
export function exportCase(file: string, batch = 5): ExportCase {
  const text = readFileSync(file.includes('/') ? file : join('examples', file), 'utf8');
  const check = checkProgram(text);
  const model = check.irs.get(check.trains[0].model) as ModelIR;
  const weights = initialWeights(model, check.fnIrs, 0);
  const rng = new Rng(7);
  for (const b of model.buffers) {
    const values = weights.get(b.name) as Float32Array;
    values.forEach((_, i) => { values[i] = b.name.endsWith('running_var') ? rng.uniform(0.5, 1.5) : rng.normal(0, 0.2); });
  }
  const [sample] = randomBatches(model, check.trains[0].loss, [batch], 11);
  const lowered = lowerModel(model, check.fnIrs, 0, () => 1);
  for (const t of [...lowered.params, ...lowered.buffers]) (t.tensor.data as Float32Array).set(weights.get(t.name) as Float32Array);
  const mode = { dropout: false, batchNormTraining: false, rng: new Rng(0), detectNonFinite: false };
  const output = noGrad(() => lowered.forward([new Tensor(sample.x, sample.xShape, sample.xDType)], mode));
  return {
    file,
    text,
    check,
    model,
    weights,
    input: { data: sample.x, shape: sample.xShape, dtype: sample.xDType },
    expected: { data: Float32Array.from(output.values), shape: [...output.shape] },
  };
}

/** max |a - b| / max |b|. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}
