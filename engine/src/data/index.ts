// The data sets a `train` block names: `loadDataset` gives the samples for a run, and
// `readDataHeader` gives the checker the sample shape and classes with as little reading as
// possible (see files.ts for what is read), and for a built-in image set whether the run
// will download it. Every problem is an NN4005 error value.

import type { DataHeader, DataHeaderReader, DataSpec } from '../lang/api.js';
import { DATA_SETS } from '../lang/trainCatalogue.js';
import { isDataError, type DataError, type Dataset } from './dataset.js';
import { idxHeader, loadCsv, loadIdx, loadNpy, npyHeader, valueRange } from './files.js';
import { loadImages, locateImages } from './images.js';
import { escapingFolder, escapingPath } from './paths.js';
import { dataSources, type DataSources } from './sources.js';
import { moons, spirals, xor } from './synthetic.js';
import { loadText, textHeader } from './text.js';

export type { DataError, Dataset, Split } from './dataset.js';
export { isDataError } from './dataset.js';
export type { DataSources } from './sources.js';

/** Where data may come from: `baseDir`, unless the user allowed any path (`nn.allowPathsOutsideWorkspace`), and the built-in sets' sources. */
export interface DataAccess {
  allowPathsOutside?: boolean;
  /** The download cache, mirror and system folder (from the environment when absent). */
  sources?: DataSources;
}

/** Loads the data set of a `train` block; relative paths are resolved against `baseDir`. */
export function loadDataset(spec: DataSpec, baseDir: string, access: DataAccess = {}): Dataset | DataError {
  const escaping = access.allowPathsOutside ? null : escapingPath(spec, baseDir);
  if (escaping) return escaping;
  switch (spec.kind) {
    case 'fashion_mnist':
    case 'mnist':
    case 'cifar10':
      return loadImages(spec, access.sources ?? dataSources());
    case 'spirals':
      return spirals(spec.classes, spec.points);
    case 'moons':
      return moons(spec.points);
    case 'xor':
      return xor();
    case 'csv':
      return loadCsv(spec.path, spec.label, baseDir);
    case 'idx':
      return loadIdx(spec.images, spec.labels, baseDir);
    case 'npy':
      return loadNpy(spec.x, spec.y, baseDir);
    case 'text':
      return loadText(spec, baseDir);
  }
}

function headerOf(spec: DataSpec, baseDir: string, sources: () => DataSources): DataHeader | DataError {
  switch (spec.kind) {
    case 'fashion_mnist':
    case 'mnist':
    case 'cifar10': {
      const location = locateImages(spec, sources());
      if (isDataError(location)) return location;
      const header: DataHeader = DATA_SETS[spec.kind].header!({ train: spec.train, test: spec.test });
      return location.kind === 'download' ? { ...header, download: { bytes: location.bytes, from: location.from, into: location.into } } : header;
    }
    case 'spirals':
      return DATA_SETS.spirals.header!({ classes: spec.classes, points: spec.points });
    case 'moons':
      return DATA_SETS.moons.header!({ points: spec.points });
    case 'xor':
      return DATA_SETS.xor.header!({});
    case 'csv': {
      const data = loadCsv(spec.path, spec.label, baseDir);
      if (isDataError(data)) return data;
      const header = { sampleShape: data.sampleShape, classes: data.classes, labelShape: data.labelShape };
      return data.train.inputs.length > 0 && data.train.inputs.every(Number.isInteger) ? { ...header, inputIds: valueRange(data.train.inputs) } : header;
    }
    case 'idx':
      return idxHeader(spec.images, spec.labels, baseDir);
    case 'npy':
      return npyHeader(spec.x, spec.y, baseDir);
    case 'text':
      return textHeader(spec, baseDir);
  }
}

/**
 * What the checker may know of the files beside a `.nn` file in `baseDir` (the CLI, the
 * language server and every run check with these): data headers, and where a `save` folder
 * really leads, symlinks followed.
 */
export function fileChecks(baseDir: string, access: DataAccess = {}): { readDataHeader: DataHeaderReader; saveFolderOutside: (path: string) => string | null; allowPathsOutsideWorkspace: boolean } {
  return {
    readDataHeader: readDataHeader(baseDir, access),
    saveFolderOutside: (path) => (access.allowPathsOutside ? null : escapingFolder(path, baseDir)),
    allowPathsOutsideWorkspace: access.allowPathsOutside === true,
  };
}

/** A DataHeaderReader for files relative to `baseDir` (the `.nn` file's folder). */
export function readDataHeader(baseDir: string, access: DataAccess = {}): DataHeaderReader {
  let sources = access.sources;
  const lazySources = () => (sources ??= dataSources());
  return (spec) => {
    const header = (access.allowPathsOutside ? null : escapingPath(spec, baseDir)) ?? headerOf(spec, baseDir, lazySources);
    return isDataError(header) ? { error: header.message, code: header.code, path: header.path, problem: header.problem } : header;
  };
}
