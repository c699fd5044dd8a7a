// The built-in image data sets (`fashion_mnist`, `mnist`, `cifar10`): where a request is
// served from — the bundled Fashion-MNIST subset, Debian's dataset package, the download
// cache, or a download still to come (fetch.ts) — and loading the first N training and M
// test images from there, scaled to [0, 1] like torchvision's ToTensor.

import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CIFAR_BATCH_DIR, CIFAR_RECORD_BYTES, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, IDX_FILES, IMAGE_SETS, formatBytes, type ImageSet, type ImageSetName, type RemoteFile } from './catalog.js';
import { dataError, isDataError, readFileBytes, type DataError, type Dataset, type Split } from './dataset.js';
import { readIdx } from './idx.js';
import { dataSources, type DataSources, type FileChecksum } from './sources.js';

export interface ImageRequest {
  kind: ImageSetName;
  train: number;
  test: number;
}

/** The first records of the official Fashion-MNIST files, committed under examples/data (MIT licence). */
export const FASHION_SUBSET = { train: 6000, test: 1000 };
const SUBSET_RELATIVE_DIR = join('examples', 'data', 'fashion-mnist');

/** Where a request's files are: a folder that has them, or the download that would bring them. */
export type ImageLocation =
  | { kind: 'ready'; dir: string; source: 'bundled subset' | 'system package' | 'cache' }
  | { kind: 'download'; set: ImageSet; bytes: number; from: string; into: string };

export function describeRequest(request: ImageRequest): string {
  return `${request.kind}(train = ${request.train}, test = ${request.test})`;
}

/** The bundled subset's folder: found by walking up from this file (source, dist bundle or installed package). */
export function subsetDir(): string | null {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, SUBSET_RELATIVE_DIR);
    if (existsSync(join(candidate, IDX_FILES.trainLabels))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** The folder a set's files are read from, under a root (the cache, Debian's folder). */
function dataDir(set: ImageSet, root: string): string {
  return set.format === 'cifar-binary' ? join(root, set.folder, CIFAR_BATCH_DIR) : join(root, set.folder);
}

/** The files that must all be in a set's data folder before it is used. */
function dataFiles(set: ImageSet): string[] {
  return set.format === 'cifar-binary' ? [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH] : Object.values(IDX_FILES);
}

function complete(set: ImageSet, dir: string): boolean {
  return dataFiles(set).every((file) => existsSync(join(dir, file)));
}

/** The URL of one of a set's files: on the mirror when one is set, else on the official site. */
export function fileUrl(set: ImageSet, file: string, sources: DataSources): string {
  return sources.mirror ? `${sources.mirror.replace(/\/+$/, '')}/${set.folder}/${file}` : `${set.url}${file}`;
}

/** The nearest existing folder at or above `path` is writable (so the cache can be made there). */
function writable(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      try {
        accessSync(dir, fsConstants.W_OK);
        return statSync(dir).isDirectory();
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

/** What a downloaded file of the set must be: the official size and MD5, unless the sources replace them (a mirror of other files). */
export function expectedFile(set: ImageSet, file: RemoteFile, sources: DataSources): FileChecksum {
  return sources.checksums[`${set.folder}/${file.name}`] ?? file;
}

/** Bytes still to download into `into`: files not there yet, less what an interrupted download left in `<file>.part`. */
function bytesToDownload(set: ImageSet, into: string, sources: DataSources): number {
  let bytes = 0;
  for (const file of set.files) {
    if (existsSync(join(into, file.name))) continue;
    let partial = 0;
    try {
      partial = statSync(join(into, `${file.name}.part`)).size;
    } catch {
      // nothing downloaded yet
    }
    bytes += Math.max(0, expectedFile(set, file, sources).bytes - partial);
  }
  return bytes;
}

/** Where `request` is served from, without reading any data: cheap enough for every re-check. */
export function locateImages(request: ImageRequest, sources: DataSources = dataSources()): ImageLocation | DataError {
  const set = IMAGE_SETS[request.kind];
  const name = describeRequest(request);
  const { train, test } = request;
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 1 || test < 0) {
    return dataError(name, 'train must be a positive integer and test a non-negative integer');
  }
  if (train > set.full.train || test > set.full.test) {
    return dataError(name, `${set.title} has ${set.full.train} training and ${set.full.test} test images`);
  }
  if (set.name === 'fashion_mnist' && train <= FASHION_SUBSET.train && test <= FASHION_SUBSET.test) {
    const subset = subsetDir();
    if (subset) return { kind: 'ready', dir: subset, source: 'bundled subset' };
  }
  if (sources.systemDir && complete(set, dataDir(set, sources.systemDir))) return { kind: 'ready', dir: dataDir(set, sources.systemDir), source: 'system package' };
  const cached = dataDir(set, sources.cacheDir);
  if (complete(set, cached)) return { kind: 'ready', dir: cached, source: 'cache' };
  const into = join(sources.cacheDir, set.folder);
  if (!writable(into)) return dataError(name, `${set.title} is not on this machine and cannot be downloaded: the cache folder ${into} is not writable (set nn.dataCache or NN_DATA_CACHE)`);
  return { kind: 'download', set, bytes: bytesToDownload(set, into, sources), from: sources.mirror ?? set.url, into };
}

/** Loads the request's images from where they are; a download still to come is an error here (fetch.ts runs it first). */
export function loadImages(request: ImageRequest, sources: DataSources = dataSources()): Dataset | DataError {
  const location = locateImages(request, sources);
  if (isDataError(location)) return location;
  const set = IMAGE_SETS[request.kind];
  if (location.kind === 'download') {
    return dataError(describeRequest(request), `${set.title} is not downloaded yet (${formatBytes(location.bytes)} from ${location.from}); \`nn train\`, \`nn probe\` and the editor's Train command download it into ${location.into}`);
  }
  const read = set.format === 'idx' ? readIdxSplits(location.dir, request) : readCifarSplits(location.dir, request);
  if (isDataError(read)) return read;
  return { description: describeRequest(request), sampleShape: set.sampleShape, classes: set.classes, classNames: set.classNames, labelShape: [], train: read.train, test: read.test };
}

type Splits = { train: Split; test: Split | null };

function readIdxSplits(dir: string, request: ImageRequest): Splits | DataError {
  const train = readIdxSplit(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels, request.train);
  if (isDataError(train)) return train;
  const test = request.test > 0 ? readIdxSplit(dir, IDX_FILES.testImages, IDX_FILES.testLabels, request.test) : null;
  if (isDataError(test)) return test;
  return { train, test };
}

/** The first `count` images of an IDX pair. */
function readIdxSplit(dir: string, imagesFile: string, labelsFile: string, count: number): Split | DataError {
  const imagesPath = join(dir, imagesFile);
  const images = readIdx(imagesPath, imagesPath);
  if (isDataError(images)) return images;
  const labelsPath = join(dir, labelsFile);
  const labels = readIdx(labelsPath, labelsPath);
  if (isDataError(labels)) return labels;
  if (images.shape[0] < count || labels.shape[0] < count) {
    return dataError(imagesPath, `holds ${Math.min(images.shape[0], labels.shape[0])} samples, ${count} requested`);
  }
  const pixels = images.shape.slice(1).reduce((a, b) => a * b, 1);
  const inputs = new Float32Array(count * pixels);
  for (let i = 0; i < inputs.length; i++) inputs[i] = images.values[i] / 255;
  return { count, inputs, targets: Float32Array.from(labels.values.subarray(0, count)) };
}

function readCifarSplits(dir: string, request: ImageRequest): Splits | DataError {
  const train = readCifarSplit(dir, CIFAR_TRAIN_BATCHES, request.train);
  if (isDataError(train)) return train;
  const test = request.test > 0 ? readCifarSplit(dir, [CIFAR_TEST_BATCH], request.test) : null;
  if (isDataError(test)) return test;
  return { train, test };
}

/** The first `count` records of CIFAR-10 batch files, in order; a record's 3072 pixel bytes are already [3, 32, 32]. */
function readCifarSplit(dir: string, batches: string[], count: number): Split | DataError {
  const pixels = CIFAR_RECORD_BYTES - 1;
  const inputs = new Float32Array(count * pixels);
  const targets = new Float32Array(count);
  let filled = 0;
  for (const batch of batches) {
    if (filled === count) break;
    const path = join(dir, batch);
    const bytes = readFileBytes(path, path);
    if (isDataError(bytes)) return bytes;
    if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
      return dataError(path, `has ${bytes.length} bytes, not a whole number of CIFAR-10 records (${CIFAR_RECORD_BYTES} bytes each: a label byte and 3 × 32 × 32 pixels)`);
    }
    const take = Math.min(bytes.length / CIFAR_RECORD_BYTES, count - filled);
    for (let r = 0; r < take; r++) {
      const at = r * CIFAR_RECORD_BYTES;
      const label = bytes[at];
      if (label > 9) return dataError(path, `record ${r} has label ${label}; CIFAR-10 labels are 0 to 9`);
      targets[filled + r] = label;
      const out = (filled + r) * pixels;
      for (let p = 0; p < pixels; p++) inputs[out + p] = bytes[at + 1 + p] / 255;
    }
    filled += take;
  }
  if (filled < count) return dataError(join(dir, batches[0]), `the batch files hold ${filled} samples, ${count} requested`);
  return { count, inputs, targets };
}
