// Batches from a split: seeded per-epoch shuffling, the last smaller batch too, and the
// tensors a model takes (inputs of the model's dtype) and its loss compares with (the
// target form of lang/targets.ts: int64 class ids, one-hot rows, or values).

import { Tensor } from '../tensor/tensor.js';
import type { Split } from '../data/index.js';
import { Rng } from '../random.js';
import type { TargetForm } from '../lang/targets.js';

export interface BatchLayout {
  sampleShape: readonly number[];
  labelShape: readonly number[];
  target: TargetForm;
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
  indices.forEach((from, to) => input.data.set(split.inputs.subarray(from * sampleSize, (from + 1) * sampleSize), to * sampleSize));
  return { input, target: targetOf(split, indices, labelSize, layout), size: indices.length };
}

/** The batch's targets in the loss's form. */
/** Rows [from, to) of a batch-first tensor. */
function rows(t: Tensor, from: number, to: number): Tensor {
  const rowSize = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return new Tensor(t.data.slice(from * rowSize, to * rowSize), [to - from, ...t.shape.slice(1)], t.dtype);
}

/**
 * An optimizer step's batch as its micro-batches of `size` samples (the last may be smaller),
 * in order: gradient accumulation runs forward and backward on each.
 */
export function microBatches(batch: Batch, size: number): Batch[] {
  if (batch.size <= size) return [batch];
  const out: Batch[] = [];
  for (let from = 0; from < batch.size; from += size) {
    const to = Math.min(batch.size, from + size);
    out.push({ input: rows(batch.input, from, to), target: rows(batch.target, from, to), size: to - from });
  }
  return out;
}

function targetOf(split: Split, indices: readonly number[], labelSize: number, layout: BatchLayout): Tensor {
  const form = layout.target;
  const floatDtype = layout.inputDtype === 'float64' ? 'float64' : 'float32';
  const floats = (size: number) => (floatDtype === 'float64' ? new Float64Array(size) : new Float32Array(size));
  const labels = split.targets;
  switch (form.kind) {
    case 'class-ids': {
      const ids = new Int32Array(indices.length * labelSize);
      indices.forEach((from, to) => ids.set(labels.subarray(from * labelSize, (from + 1) * labelSize), to * labelSize));
      return new Tensor(ids, [indices.length, ...form.shape], 'int64');
    }
    case 'one-hot': {
      const rows = floats(indices.length * form.classes);
      indices.forEach((from, to) => {
        rows[to * form.classes + labels[from]] = 1;
      });
      return new Tensor(rows, [indices.length, form.classes], floatDtype);
    }
    case 'values': {
      const values = floats(indices.length * labelSize);
      indices.forEach((from, to) => values.set(labels.subarray(from * labelSize, (from + 1) * labelSize), to * labelSize));
      return new Tensor(values, [indices.length, ...form.shape], floatDtype);
    }
  }
}
