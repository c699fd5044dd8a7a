// An epoch's evaluation, the same on both back ends (only the model's outputs come from the
// back end): mean loss and accuracy over a split in eval mode, the accuracy on a fixed sample
// of the training split, and, for a run that classifies whole samples, the confusion matrix
// and the worst-classified images.

import { noGrad } from '../autograd/tape.js';
import type { WorstSample } from '../core/events.js';
import { makeBatch, type BatchLayout } from '../core/batches.js';
import type { Dataset, Split } from '../data/index.js';
import type { TargetForm } from '../lang/targets.js';
import { Tensor } from '../tensor/tensor.js';
import { argmax, correctCount, lossOf } from '../backend-ts/objective.js';
import type { TrainingBackend } from './backends.js';
import type { Prepared } from './prepare.js';

/** Evaluation batch size: large, since evaluation keeps no tape. */
export const EVAL_BATCH = 256;

/** At most this many training samples are evaluated for the epoch's train accuracy. */
export const TRAIN_ACCURACY_SAMPLES = 1000;

/** How many of the worst-classified samples an epoch event carries (their pixels included). */
export const WORST_SAMPLES = 8;

export interface Evaluation {
  loss: number;
  accuracy: number | null;
  /** `confusion[label][predicted]`, when asked for and the run classifies whole samples. */
  confusion: number[][] | null;
  /** The samples of highest loss, worst first, when asked for on image data. */
  worst: WorstSample[] | null;
}

/** A confusion matrix of more classes would make every epoch event large and the view unreadable. */
export const MAX_MATRIX_CLASSES = 100;

/**
 * The class count when each sample has one class (class ids `[B]` or one-hot rows) and at
 * most 100 of them, which a confusion matrix and a worst-sample grid need; null otherwise
 * (sequences, regression, a thousand classes).
 */
export function sampleClasses(form: TargetForm, data: Pick<Dataset, 'classes'>): number | null {
  const classes = form.kind === 'one-hot' ? form.classes : form.kind === 'class-ids' && form.shape.length === 0 ? data.classes : null;
  return classes !== null && classes <= MAX_MATRIX_CLASSES ? classes : null;
}

/** What each class id stands for: the data set's names, else the ids themselves. */
export function classNames(data: Pick<Dataset, 'classes' | 'classNames'>): string[] {
  return data.classNames?.slice() ?? Array.from({ length: data.classes ?? 0 }, (_, id) => String(id));
}

/** `[channels, height, width]` when samples look like images (1 or 3 channels), else null. */
export function imageShape(sampleShape: readonly number[]): [number, number, number] | null {
  const [channels, height, width] = sampleShape;
  return sampleShape.length === 3 && (channels === 1 || channels === 3) && height >= 2 && width >= 2 ? [channels, height, width] : null;
}

/** The training samples a train accuracy is measured on: at most 1000, evenly spaced, in file order. */
export function trainAccuracyOrder(count: number): number[] {
  const n = Math.min(count, TRAIN_ACCURACY_SAMPLES);
  return Array.from({ length: n }, (_, k) => Math.floor((k * count) / n));
}

/**
 * Mean loss and accuracy over the samples `order` names (the whole split, in file order, by
 * default), in eval mode; with `details`, the confusion matrix and worst samples too.
 */
export async function evaluate(
  prepared: Prepared,
  backend: TrainingBackend,
  split: Split,
  layout: BatchLayout,
  options: { order?: readonly number[]; details?: boolean } = {},
): Promise<Evaluation> {
  const order = options.order ?? Array.from({ length: split.count }, (_, i) => i);
  const { loss, lossArgs, lossWeight } = prepared.train;
  const classes = options.details ? sampleClasses(layout.target, prepared.data) : null;
  const image = classes === null ? null : imageShape(layout.sampleShape);
  const confusion = classes === null ? null : Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const candidates: Candidate[] = [];
  let lossSum = 0;
  let correct: number | null = 0;
  for (let start = 0; start < order.length; start += EVAL_BATCH) {
    const batch = makeBatch(split, order, start, EVAL_BATCH, layout);
    const output = await backend.evalOutput(batch.input);
    noGrad(() => {
      lossSum += lossOf(loss, output, batch.target, lossArgs, lossWeight).item() * batch.size;
    });
    const right = correctCount(loss, layout.target, output, batch.target);
    correct = right === null || correct === null ? null : correct + right;
    if (classes === null || confusion === null) continue;
    for (let row = 0; row < batch.size; row++) {
      const index = order[start + row];
      const label = split.targets[index];
      const predicted = argmax(output.data, row * classes, classes);
      confusion[label][predicted]++;
      if (image) candidates.push({ index, label, predicted, row: sampleRow(output, row), target: sampleRow(batch.target, row) });
    }
  }
  return {
    loss: lossSum / order.length,
    accuracy: correct === null ? null : correct / order.length,
    confusion,
    worst: image ? worstSamples(prepared, candidates, split, image) : null,
  };
}

interface Candidate {
  index: number;
  label: number;
  predicted: number;
  /** The sample's output and target, as one-sample batches. */
  row: Tensor;
  target: Tensor;
}

/** Row `r` of a batch tensor, as a batch of one. */
function sampleRow(batch: Tensor, r: number): Tensor {
  const width = batch.size / batch.shape[0];
  return new Tensor(batch.data.slice(r * width, (r + 1) * width), [1, ...batch.shape.slice(1)], batch.dtype);
}

/** The samples of highest loss (each one's own loss by the run's loss kernel), with their pixels. */
function worstSamples(prepared: Prepared, candidates: Candidate[], split: Split, shape: [number, number, number]): WorstSample[] {
  const { loss, lossArgs, lossWeight } = prepared.train;
  const scored = noGrad(() => candidates.map((c) => ({ candidate: c, loss: lossOf(loss, c.row, c.target, lossArgs, lossWeight).item() })));
  scored.sort((a, b) => b.loss - a.loss || a.candidate.index - b.candidate.index);
  const size = shape[0] * shape[1] * shape[2];
  return scored.slice(0, WORST_SAMPLES).map(({ candidate, loss: sampleLoss }) => ({
    index: candidate.index,
    label: candidate.label,
    predicted: candidate.predicted,
    confidence: softmaxAt(candidate.row.data, candidate.predicted),
    loss: sampleLoss,
    shape,
    pixels: pixelBytes(split.inputs.subarray(candidate.index * size, (candidate.index + 1) * size)),
  }));
}

/** softmax(scores)[k], computed stably. */
function softmaxAt(scores: ArrayLike<number>, k: number): number {
  let max = -Infinity;
  for (let c = 0; c < scores.length; c++) max = Math.max(max, scores[c]);
  let sum = 0;
  for (let c = 0; c < scores.length; c++) sum += Math.exp(scores[c] - max);
  return Math.exp(scores[k] - max) / sum;
}

/** A sample's values stretched over 0-255 (a constant image is mid-grey), as base64 bytes. */
export function pixelBytes(values: ArrayLike<number>): string {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const bytes = new Uint8Array(values.length);
  const span = max - min;
  for (let i = 0; i < values.length; i++) bytes[i] = span > 0 ? Math.round((255 * (values[i] - min)) / span) : 128;
  return Buffer.from(bytes).toString('base64');
}
