// NN5009, inputs far from unit scale: the mean and standard deviation of the model's float
// input over the first batches of a run, computed by the run layer from the batch data
// before either back end takes a step, so both report the same numbers at the `data` line.

import type { TextRange, TrainIR } from '../lang/api.js';
import type { Batch } from '../core/batches.js';
import type { Finding } from '../core/events.js';
import { finding, fmt } from './findings.js';

/** The input statistics are taken over the first this many batches of a run (fewer when its epoch has fewer). */
export const INPUT_BATCHES = 5;
/** Inputs whose |mean| or standard deviation is above this are far from unit scale... */
export const INPUT_SCALE_HIGH = 10;
/** ...as are inputs whose |mean| and standard deviation are both below this (and not all zero). */
export const INPUT_SCALE_LOW = 0.01;

/**
 * NN5009 from the first batches of a run (integer inputs, token ids, are not judged), at
 * `step`, the run's first: the model input's mean and standard deviation over them.
 */
export function inputScaleFindings(spec: TrainIR, input: string, batches: readonly Batch[], step: number): Finding[] {
  let sum = 0;
  let squares = 0;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const batch of batches) {
    if (batch.input.dtype === 'int64') return [];
    const values = batch.input.data;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      sum += v;
      squares += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    count += values.length;
  }
  if (count === 0 || !Number.isFinite(sum + squares)) return [];
  const mean = sum / count;
  const std = Math.sqrt(Math.max(0, squares / count - mean * mean));
  const scale = Math.max(Math.abs(mean), std);
  const large = scale > INPUT_SCALE_HIGH;
  if (!large && !(scale > 0 && scale < INPUT_SCALE_LOW)) return [];
  const over = `over the first ${batches.length} batch${batches.length === 1 ? '' : 'es'} (${count} values)`;
  const numbers = `mean ${fmt(mean)}, std ${fmt(std)}, from ${fmt(min)} to ${fmt(max)} ${over}`;
  const pixels = large && min >= 0 && max <= 255 && max > 1 ? 'divide raw pixel values by 255, or ' : '';
  const advice = `normalize the inputs: ${pixels}standardize each feature ((x − mean) / std over the training set) before writing the data file`;
  const detail = `${numbers} (threshold: |mean| or std above ${INPUT_SCALE_HIGH}, or both below ${INPUT_SCALE_LOW}); ${advice}`;
  const range: TextRange = spec.keyRanges.data ?? spec.range;
  return [finding('NN5009', input, detail, range, step)];
}
