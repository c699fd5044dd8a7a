// The kernel tasks the threads of pool.ts run, by name: each takes its arrays, its numbers
// and a range [first, end) of independent items, so the calling thread and the workers run
// the same code on the chunks they take.

import { adamPart } from './adam.js';
import { convBiasGradPart, convForwardPart, convInputGradPart, convWeightGradPart, sumBlocksPart } from './conv.js';
import { addIntoPart, reluGradPart, reluPart } from './elementwise.js';
import { gemmPart } from './gemm.js';
import { averagePoolPart, maxPoolGradPart, maxPoolPart } from './pooling.js';

export type TaskArray = Float32Array | Float64Array | Int32Array;

export type TaskName =
  | 'gemm'
  | 'conv_forward'
  | 'conv_input_grad'
  | 'conv_weight_grad'
  | 'conv_bias_grad'
  | 'sum_blocks'
  | 'relu'
  | 'relu_grad'
  | 'add_into'
  | 'max_pool'
  | 'max_pool_grad'
  | 'average_pool'
  | 'adam';

type Floats = Float32Array | Float64Array;

export function runTask(task: TaskName, arrays: readonly TaskArray[], scalars: readonly number[], first: number, end: number): void {
  const floats = arrays as readonly Floats[];
  switch (task) {
    case 'gemm': return gemmPart(floats, scalars, first, end);
    case 'conv_forward': return convForwardPart(floats, scalars, first, end);
    case 'conv_input_grad': return convInputGradPart(floats, scalars, first, end);
    case 'conv_weight_grad': return convWeightGradPart(floats, scalars, first, end);
    case 'conv_bias_grad': return convBiasGradPart(floats, scalars, first, end);
    case 'sum_blocks': return sumBlocksPart(floats, scalars, first, end);
    case 'relu': return reluPart(floats, scalars, first, end);
    case 'relu_grad': return reluGradPart(floats, scalars, first, end);
    case 'add_into': return addIntoPart(floats, scalars, first, end);
    case 'max_pool': return maxPoolPart(arrays, scalars, first, end);
    case 'max_pool_grad': return maxPoolGradPart(arrays, scalars, first, end);
    case 'average_pool': return averagePoolPart(floats, scalars, first, end);
    case 'adam': return adamPart(floats, scalars, first, end);
  }
}

/** Runs chunks of `chunk` items, taking the next from the shared counter until all are taken. */
export function runChunks(task: TaskName, arrays: readonly TaskArray[], scalars: readonly number[], items: number, chunk: number, counter: Int32Array): void {
  for (let first = Atomics.add(counter, 0, 1) * chunk; first < items; first = Atomics.add(counter, 0, 1) * chunk) {
    runTask(task, arrays, scalars, first, Math.min(items, first + chunk));
  }
}
