// What a `train` block's loss compares the model's output with, from a data set's labels:
// class ids (a loss whose registry target is 'class-ids'), class labels as one-hot rows (any
// other loss on a [B, C] output), or the label values shaped like one output. One rule for the checker
// (NN4007 when nothing fits) and for both back ends (the target tensors of each batch).

import { Dim, formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import type { DataHeader, TrainIR } from './api.js';
import { opDef } from '../ops/registry.js';
import type { VariantsOf } from './diagnostics.js';

export type TargetForm =
  /** int64 class ids [B], or [B, ...shape] for a sequence's (one per position). */
  | { kind: 'class-ids'; shape: number[] }
  /** float rows [B, classes]: 1 at the label's class, 0 elsewhere. */
  | { kind: 'one-hot'; classes: number }
  /** the labels' values as floats, each sample's shaped like one output (`[B]` labels fit a `[B, 1]` output). */
  | { kind: 'values'; shape: number[] };

const scalarLike = (s: Shape): boolean => s.length === 0 || (s.length === 1 && s[0].equals(1));

/** Why a loss does not fit the model output: an NN4007 case and its arguments after the loss and the output's shape. */
export interface TargetProblem {
  id: VariantsOf<'NN4007'>;
  args: string[];
}

/**
 * The target form of `loss` for a model whose output has `perSample` dims after the batch,
 * on data with `header`'s labels; what does not fit otherwise. The caller reports a class
 * count that differs (NN4004) on its own.
 */
export function targetForm(loss: TrainIR['loss'], perSample: Shape, header: Pick<DataHeader, 'classes' | 'labelShape'>): TargetForm | { problem: TargetProblem } {
  if (opDef(loss)?.target === 'class-ids') {
    // Scores [B, C] for one label per sample, [B, T, C] for a label per position (`text`'s next characters).
    // A symbolic length (`x: int[B, T]`) fits the labels' length: the checker bound it to the samples'.
    const positions = perSample.slice(0, -1);
    const labels = header.labelShape.map((n) => Dim.of(n));
    const fits = positions.length === labels.length && positions.every((d, k) => d.constant() === null || d.constant() === header.labelShape[k]);
    if (perSample.length === 0 || !fits) {
      return { problem: { id: 'NN4007/classScores', args: [formatShape([Dim.named('B'), ...labels, Dim.named('C')]), formatShape([Dim.named('B'), ...labels])] } };
    }
    if (header.classes === null) return { problem: { id: 'NN4007/regressionTargets', args: [] } };
    return { kind: 'class-ids', shape: header.labelShape.slice() };
  }
  const concrete = perSample.map((d) => d.constant());
  if (concrete.some((n) => n === null)) return { problem: { id: 'NN4007/unknownDims', args: [] } };
  const shape = concrete as number[];
  if (header.classes !== null) {
    if (scalarLike(perSample)) return { kind: 'values', shape };
    if (perSample.length === 1 && perSample[0].equals(header.classes)) return { kind: 'one-hot', classes: header.classes };
    return { problem: { id: 'NN4007/classesAsValues', args: [String(header.classes)] } };
  }
  const labels = header.labelShape.map((n) => Dim.of(n));
  if (shapesEqual(perSample, labels) || (scalarLike(perSample) && scalarLike(labels))) return { kind: 'values', shape };
  return { problem: { id: 'NN4007/targetShape', args: [formatShape([Dim.named('B'), ...labels])] } };
}
