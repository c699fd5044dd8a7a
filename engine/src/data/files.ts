// Data sets from the user's files (`csv`, `idx`, `npy`): the whole set for training, or just
// what the checker needs (sample shape, number of classes) for `readDataHeader`.
//
// Header-only reading: the input file's header alone gives the sample shape. The number of
// classes needs the labels (max id + 1), so label files are read whole; they hold one value
// per sample and are small. A CSV file has no header of that kind and is read whole.
//
// Conventions: uint8 inputs are scaled to [0, 1] (like torchvision's ToTensor); IDX images of
// rank 3 ([N, H, W]) get a channel dim ([1, H, W]); integer labels are class ids, float
// targets are regression targets (classes null); CSV labels that are all non-negative
// integers are class ids, otherwise regression targets of shape [1].

import { join } from 'node:path';
import type { DataHeader } from '../lang/api.js';
import { readCsv } from './csv.js';
import { countClasses, dataError, isDataError, type DataError, type Dataset } from './dataset.js';
import { readIdx, readIdxHeader, type IdxArray } from './idx.js';
import { readNpy, readNpyHeader, type NpyArray } from './npy.js';

function idxSampleShape(shape: number[]): number[] {
  return shape.length === 3 ? [1, shape[1], shape[2]] : shape.slice(1);
}

function scaledInputs(values: ArrayLike<number>, isUint8: boolean): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = isUint8 ? values[i] / 255 : values[i];
  return out;
}

function isIntegerDtype(dtype: NpyArray['dtype']): boolean {
  return dtype === 'int64' || dtype === 'int32' || dtype === 'uint8';
}

function checkCounts(inputs: number, labels: number, labelsPath: string): DataError | null {
  if (labels !== inputs) return dataError(labelsPath, `has ${labels} labels but the inputs have ${inputs} samples`);
  if (inputs === 0) return dataError(labelsPath, 'holds no samples');
  return null;
}

export function loadNpy(xPath: string, yPath: string, baseDir: string): Dataset | DataError {
  const x = readNpy(join(baseDir, xPath), xPath);
  if (isDataError(x)) return x;
  const y = readNpy(join(baseDir, yPath), yPath);
  if (isDataError(y)) return y;
  if (x.shape.length === 0) return dataError(xPath, 'is a scalar; the first dim must count the samples');
  const mismatch = checkCounts(x.shape[0], y.shape[0] ?? 0, yPath);
  if (mismatch) return mismatch;
  let classes: number | null = null;
  if (isIntegerDtype(y.dtype)) {
    const counted = countClasses(y.values, yPath);
    if (isDataError(counted)) return counted;
    classes = counted;
  }
  return {
    description: `npy(x = "${xPath}", y = "${yPath}")`,
    sampleShape: x.shape.slice(1),
    classes,
    labelShape: y.shape.slice(1),
    train: { count: x.shape[0], inputs: scaledInputs(x.values, x.dtype === 'uint8'), targets: Float32Array.from(y.values) },
    test: null,
  };
}

export function npyHeader(xPath: string, yPath: string, baseDir: string): DataHeader | DataError {
  const x = readNpyHeader(join(baseDir, xPath), xPath);
  if (isDataError(x)) return x;
  if (x.shape.length === 0) return dataError(xPath, 'is a scalar; the first dim must count the samples');
  const yHeader = readNpyHeader(join(baseDir, yPath), yPath);
  if (isDataError(yHeader)) return yHeader;
  const mismatch = checkCounts(x.shape[0], yHeader.shape[0] ?? 0, yPath);
  if (mismatch) return mismatch;
  // Integer inputs are token ids: the checker compares their range with the Embedding's rows.
  let inputIds: DataHeader['inputIds'];
  if (isIntegerDtype(x.dtype)) {
    const ids = readNpy(join(baseDir, xPath), xPath);
    if (isDataError(ids)) return ids;
    inputIds = valueRange(ids.values);
  }
  const ranged = (header: DataHeader): DataHeader => (inputIds ? { ...header, inputIds } : header);
  if (!isIntegerDtype(yHeader.dtype)) return ranged({ sampleShape: x.shape.slice(1), classes: null, labelShape: yHeader.shape.slice(1) });
  const y = readNpy(join(baseDir, yPath), yPath);
  if (isDataError(y)) return y;
  const classes = countClasses(y.values, yPath);
  if (isDataError(classes)) return classes;
  // Integer labels are class ids: one per sample [N], or one per position of a sequence [N, T].
  return ranged({ sampleShape: x.shape.slice(1), classes, labelShape: yHeader.shape.slice(1) });
}

/** The smallest and largest of some values (at least one). */
export function valueRange(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return { min, max };
}

/** An IDX label file: 1-D class ids, one per image; the header needs them too, for the class count. */
function readIdxLabels(labelsPath: string, baseDir: string, imageCount: number): { labels: IdxArray; classes: number } | DataError {
  const labels = readIdx(join(baseDir, labelsPath), labelsPath);
  if (isDataError(labels)) return labels;
  if (labels.shape.length !== 1) return dataError(labelsPath, `labels must be 1-D, got shape [${labels.shape.join(', ')}]`);
  const mismatch = checkCounts(imageCount, labels.shape[0], labelsPath);
  if (mismatch) return mismatch;
  const classes = countClasses(labels.values, labelsPath);
  if (isDataError(classes)) return classes;
  return { labels, classes };
}

export function loadIdx(imagesPath: string, labelsPath: string, baseDir: string): Dataset | DataError {
  const images = readIdx(join(baseDir, imagesPath), imagesPath);
  if (isDataError(images)) return images;
  const labelled = readIdxLabels(labelsPath, baseDir, images.shape[0]);
  if (isDataError(labelled)) return labelled;
  const { labels, classes } = labelled;
  return {
    description: `idx(images = "${imagesPath}", labels = "${labelsPath}")`,
    sampleShape: idxSampleShape(images.shape),
    classes,
    labelShape: [],
    train: { count: images.shape[0], inputs: scaledInputs(images.values, images.values instanceof Uint8Array), targets: Float32Array.from(labels.values) },
    test: null,
  };
}

export function idxHeader(imagesPath: string, labelsPath: string, baseDir: string): DataHeader | DataError {
  const images = readIdxHeader(join(baseDir, imagesPath), imagesPath);
  if (isDataError(images)) return images;
  const labelled = readIdxLabels(labelsPath, baseDir, images.shape[0]);
  if (isDataError(labelled)) return labelled;
  return { sampleShape: idxSampleShape(images.shape), classes: labelled.classes, labelShape: [] };
}

export function loadCsv(path: string, labelColumn: string, baseDir: string): Dataset | DataError {
  const table = readCsv(join(baseDir, path), path, labelColumn);
  if (isDataError(table)) return table;
  const isClassIds = table.labels.every((v) => Number.isInteger(v) && v >= 0);
  const classes = isClassIds ? table.labels.reduce((a, b) => Math.max(a, b), 0) + 1 : null;
  return {
    description: `csv("${path}", label = "${labelColumn}")`,
    sampleShape: [table.featureNames.length],
    classes,
    labelShape: isClassIds ? [] : [1],
    train: { count: table.rows, inputs: table.features, targets: Float32Array.from(table.labels) },
    test: null,
  };
}
