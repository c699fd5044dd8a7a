// Brings a built-in image data set onto the machine before a run, as torchvision's
// `download=True` does: each missing file is downloaded into the cache and checksum-verified
// (download.ts); CIFAR-10's archive is then unpacked (its six batch files only) and removed.
// Data sets that are files or generated need nothing and return at once.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from 'tar';
import type { DataSpec } from '../lang/api.js';
import { CIFAR_ARCHIVE, CIFAR_BATCH_DIR, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, isImageSetName, type ImageSet } from './catalog.js';
import { dataError, isDataError, type DataError } from './dataset.js';
import { downloadFile, type DownloadOptions } from './download.js';
import { describeRequest, expectedFile, fileUrl, locateImages } from './images.js';
import type { DataSources } from './sources.js';

export type { DownloadProgress } from './download.js';

/** Downloads what `spec` needs and is not on the machine; null when nothing is missing any more. */
export async function fetchData(spec: DataSpec, sources: DataSources, options: DownloadOptions = {}): Promise<DataError | null> {
  if (!isImageSetName(spec.kind) || !('train' in spec) || !('test' in spec)) return null;
  const request = { kind: spec.kind, train: spec.train, test: spec.test };
  const location = locateImages(request, sources);
  if (isDataError(location)) return location;
  if (location.kind === 'ready') return null;
  const { set, into } = location;
  const name = describeRequest(request);
  try {
    mkdirSync(into, { recursive: true });
  } catch (error) {
    return dataError(name, `cannot create the cache folder ${into} (${(error as NodeJS.ErrnoException).code ?? String(error)}); set nn.dataCache or NN_DATA_CACHE`);
  }
  const setTotal = set.files.reduce((n, f) => n + expectedFile(set, f, sources).bytes, 0);
  let setBefore = 0;
  for (const file of set.files) {
    const dest = join(into, file.name);
    const expected = expectedFile(set, file, sources);
    if (!existsSync(dest)) {
      const problem = await downloadFile(fileUrl(set, file.name, sources), dest, expected, { title: set.title, file: file.name, setBefore, setTotal }, options);
      if (problem) return dataError(name, problem);
    }
    setBefore += expected.bytes;
  }
  if (set.format === 'cifar-binary') {
    const problem = await unpackCifar(set, into);
    if (problem) return dataError(name, problem);
  }
  return null;
}

/**
 * Unpacks the batch files of CIFAR-10's archive into `<into>/cifar-10-batches-bin` through a
 * temporary folder renamed at the end, so an interrupted unpack leaves nothing half-made.
 */
async function unpackCifar(set: ImageSet, into: string): Promise<string | null> {
  const archive = join(into, CIFAR_ARCHIVE);
  const staging = join(into, `${CIFAR_BATCH_DIR}.unpacking`);
  const wanted = new Set([...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH, 'batches.meta.txt'].map((f) => `${CIFAR_BATCH_DIR}/${f}`));
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await extract({ file: archive, cwd: staging, strict: true, filter: (path) => wanted.has(path.replace(/^\.\//, '')) });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    return `cannot unpack ${archive}: ${(error as Error).message}`;
  }
  const unpacked = join(staging, CIFAR_BATCH_DIR);
  const missing = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH].filter((f) => !existsSync(join(unpacked, f)));
  if (missing.length > 0) {
    rmSync(staging, { recursive: true, force: true });
    return `${archive} has no ${missing.map((f) => `${CIFAR_BATCH_DIR}/${f}`).join(', ')}: not ${set.title}'s binary version`;
  }
  const target = join(into, CIFAR_BATCH_DIR);
  rmSync(target, { recursive: true, force: true });
  renameSync(unpacked, target);
  rmSync(staging, { recursive: true, force: true });
  rmSync(archive, { force: true });
  return null;
}
