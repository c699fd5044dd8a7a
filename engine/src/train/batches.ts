// Batches from a split: seeded per-epoch shuffling, the last smaller batch too, and the
// tensors a model takes (inputs of the model's dtype; int64 class ids or float targets).

import { Tensor } from '../tensor/tensor.js';
import type { Split } from '../data/index.js';
import { Rng } from '../random.js';

export interface BatchLayout {
  sampleShape: readonly number[];
  labelShape: readonly number[];
  /** Class ids become int64 tensors; regression targets stay floats. */
  classification: boolean;
  inputDtype: 'float32' | 'float64' | 'int64';
}

export interface Batch {
  input: Tensor;
  target: Tensor;
  size: number;
}

/** Independent random streams per purpose and index, so resuming needs no RNG state. */
export function streamRng(seed: number, stream: 'shuffle' | 'dropout', index: number): Rng {
  const streamId = stream === 'shuffle' ? 0x51ed27 : 0xd20907;
  let h = Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(streamId, 0x85ebca77) ^ Math.imul(index >>> 0, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return new Rng((h ^ (h >>> 13)) >>> 0);
}

/** The sample order of an epoch: a seeded permutation, or file order. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle: boolean): number[] {
  return shuffle ? streamRng(seed, 'shuffle', epoch).permutation(count) : Array.from({ length: count }, (_, i) => i);
}

export function batchCount(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/** The samples `order[start .. start + batchSize)` as tensors. */
export function makeBatch(split: Split, order: readonly number[], start: number, batchSize: number, layout: BatchLayout): Batch {
  const indices = order.slice(start, start + batchSize);
  const sampleSize = layout.sampleShape.reduce((a, b) => a * b, 1);
  const labelSize = layout.labelShape.reduce((a, b) => a * b, 1);
  const input = new Tensor(
    layout.inputDtype === 'int64' ? new Int32Array(indices.length * sampleSize) : layout.inputDtype === 'float64' ? new Float64Array(indices.length * sampleSize) : new Float32Array(indices.length * sampleSize),
    [indices.length, ...layout.sampleShape],
    layout.inputDtype,
  );
  const target = new Tensor(
    layout.classification ? new Int32Array(indices.length * labelSize) : layout.inputDtype === 'float64' ? new Float64Array(indices.length * labelSize) : new Float32Array(indices.length * labelSize),
    [indices.length, ...layout.labelShape],
    layout.classification ? 'int64' : layout.inputDtype === 'float64' ? 'float64' : 'float32',
  );
  indices.forEach((from, to) => {
    input.data.set(split.inputs.subarray(from * sampleSize, (from + 1) * sampleSize), to * sampleSize);
    target.data.set(split.targets.subarray(from * labelSize, (from + 1) * labelSize), to * labelSize);
  });
  return { input, target, size: indices.length };
}
