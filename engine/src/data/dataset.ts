// What a loaded data set is (inputs and targets per split) and the one error every data
// problem becomes: NN4005 with the file and what was wrong, never an exception.

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

/** One split: `count` samples, each `sampleShape` inputs and `labelShape` targets, row-major. */
export interface Split {
  count: number;
  inputs: Float32Array;
  /** Class ids (integers stored as floats) for classification, values for regression. */
  targets: Float32Array;
}

export interface Dataset {
  /** What the `data` key named, for messages: `fashion_mnist(train = 2000, test = 500)`. */
  description: string;
  sampleShape: number[];
  /** The number of classes, or null for regression targets. */
  classes: number | null;
  /** What each class id stands for, where the data set names its classes (the image sets). */
  classNames?: readonly string[];
  /** Shape of one target: `[]` for a class id. */
  labelShape: number[];
  train: Split;
  /** The data set's own test split, when it has one. */
  test: Split | null;
}

export interface DataError {
  /** NN4005: missing or unreadable; NN4006: the file resolves outside the allowed folder. */
  code: 'NN4005' | 'NN4006';
  /** `path: what was wrong`. */
  message: string;
  path: string;
  problem: string;
}

export function dataError(path: string, problem: string): DataError {
  return { code: 'NN4005', message: `${path}: ${problem}`, path, problem };
}

export function isDataError(value: unknown): value is DataError {
  const code = typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
  return code === 'NN4005' || code === 'NN4006';
}

/** Reads a whole file; `shownPath` is the path as the user wrote it, for the message. */
export function readFileBytes(fullPath: string, shownPath: string): Buffer | DataError {
  try {
    if (statSync(fullPath).isDirectory()) return dataError(shownPath, 'is a folder, not a file');
    return readFileSync(fullPath);
  } catch (error) {
    return dataError(shownPath, describeIoError(error));
  }
}

/** Reads at most `length` bytes from the start of a file (for headers). */
export function readFilePrefix(fullPath: string, shownPath: string, length: number): Buffer | DataError {
  let fd: number | undefined;
  try {
    if (statSync(fullPath).isDirectory()) return dataError(shownPath, 'is a folder, not a file');
    fd = openSync(fullPath, 'r');
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } catch (error) {
    return dataError(shownPath, describeIoError(error));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function fileSize(fullPath: string): number | null {
  try {
    return statSync(fullPath).size;
  } catch {
    return null;
  }
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot read the file (${code ?? String(error)})`;
}

/** Class ids must be non-negative integers; returns the number of classes (max id + 1). */
export function countClasses(labels: ArrayLike<number>, shownPath: string): number | DataError {
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0) {
      return dataError(shownPath, `label ${label} at index ${i} is out of range (class ids are integers from 0)`);
    }
    if (label > max) max = label;
  }
  return max + 1;
}
