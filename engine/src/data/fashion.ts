// Fashion-MNIST: the first N training and M test images, from the subset committed under
// examples/data/fashion-mnist/ or, for larger requests, from Debian's dataset-fashion-mnist.
// The subset holds the first records of the full files, so both sources give the same samples.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dataError, isDataError, type DataError, type Dataset, type Split } from './dataset.js';
import { readIdx } from './idx.js';

export const FASHION_SUBSET = { train: 6000, test: 1000 };
export const FASHION_FULL = { train: 60000, test: 10000 };
export const FASHION_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const SUBSET_RELATIVE_DIR = join('examples', 'data', 'fashion-mnist');
export const FASHION_CLASSES = 10;
export const FASHION_SAMPLE_SHAPE = [1, 28, 28];

const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};

/** The bundled subset's folder: found by walking up from this file (source or dist bundle). */
export function subsetDir(): string | null {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, SUBSET_RELATIVE_DIR);
    if (existsSync(join(candidate, FILES.trainLabels))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** Which folder serves a request of `train` and `test` images, or why none can. */
export function fashionSource(train: number, test: number): string | DataError {
  const name = `fashion_mnist(train = ${train}, test = ${test})`;
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 1 || test < 0) {
    return dataError(name, 'train must be a positive integer and test a non-negative integer');
  }
  if (train > FASHION_FULL.train || test > FASHION_FULL.test) {
    return dataError(name, `Fashion-MNIST has ${FASHION_FULL.train} training and ${FASHION_FULL.test} test images`);
  }
  const subset = subsetDir();
  if (subset && train <= FASHION_SUBSET.train && test <= FASHION_SUBSET.test) return subset;
  if (existsSync(join(FASHION_SYSTEM_DIR, FILES.trainLabels))) return FASHION_SYSTEM_DIR;
  if (!subset) return dataError(name, `the bundled subset (${SUBSET_RELATIVE_DIR}) is missing and the full set is not installed: apt-get install dataset-fashion-mnist`);
  return dataError(
    name,
    `the bundled subset has ${FASHION_SUBSET.train} training and ${FASHION_SUBSET.test} test images; for more, install the full set: apt-get install dataset-fashion-mnist`,
  );
}

export function fashionMnist(train: number, test: number): Dataset | DataError {
  const source = fashionSource(train, test);
  if (isDataError(source)) return source;
  const trainSplit = readSplit(source, FILES.trainImages, FILES.trainLabels, train);
  if (isDataError(trainSplit)) return trainSplit;
  const testSplit = test > 0 ? readSplit(source, FILES.testImages, FILES.testLabels, test) : null;
  if (isDataError(testSplit)) return testSplit;
  return {
    description: `fashion_mnist(train = ${train}, test = ${test})`,
    sampleShape: FASHION_SAMPLE_SHAPE,
    classes: FASHION_CLASSES,
    labelShape: [],
    train: trainSplit,
    test: testSplit,
  };
}

/** The first `count` images, scaled to [0, 1] like torchvision's ToTensor. */
function readSplit(dir: string, imagesFile: string, labelsFile: string, count: number): Split | DataError {
  const images = readIdx(join(dir, imagesFile), join(dir, imagesFile));
  if (isDataError(images)) return images;
  const labels = readIdx(join(dir, labelsFile), join(dir, labelsFile));
  if (isDataError(labels)) return labels;
  if (images.shape[0] < count || labels.shape[0] < count) {
    return dataError(join(dir, imagesFile), `holds ${Math.min(images.shape[0], labels.shape[0])} samples, ${count} requested`);
  }
  const pixels = 28 * 28;
  const inputs = new Float32Array(count * pixels);
  for (let i = 0; i < inputs.length; i++) inputs[i] = images.values[i] / 255;
  return { count, inputs, targets: Float32Array.from(labels.values.subarray(0, count)) };
}
