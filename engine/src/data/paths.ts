// Data files are read only from inside the `.nn` file's folder, after following symlinks:
// the checker refuses `..` and absolute paths by their text, this catches a link pointing out.

import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { DataSpec } from '../lang/api.js';
import type { DataError } from './dataset.js';

/** The file paths a data set names, as written. */
function filePaths(spec: DataSpec): string[] {
  switch (spec.kind) {
    case 'csv':
      return [spec.path];
    case 'idx':
      return [spec.images, spec.labels];
    case 'npy':
      return [spec.x, spec.y];
    case 'text':
      return [spec.path];
    default:
      return [];
  }
}

/** NN4006 when a file of the data set resolves (through symlinks) outside `baseDir`. */
export function escapingPath(spec: DataSpec, baseDir: string): DataError | null {
  const folder = realPath(baseDir) ?? baseDir;
  for (const path of filePaths(spec)) {
    const real = realPath(join(baseDir, path));
    if (real !== null && !isInsideFolder(folder, real)) {
      return { code: 'NN4006', message: `${path}: resolves to ${real}, outside ${baseDir}`, path, problem: `resolves to ${real}, outside the folder` };
    }
  }
  return null;
}

/**
 * The folder a `save` path leads to when it leaves `baseDir` through a symlink (the text
 * check catches `..` and absolute paths), else null. The folder need not exist yet.
 */
export function escapingFolder(path: string, baseDir: string): string | null {
  const real = realPathOfNearest(resolve(baseDir, path));
  return isInsideFolder(realPathOfNearest(baseDir), real) ? null : real;
}

/** `path` with symlinks resolved in its nearest existing ancestor (the rest does not exist yet). */
export function realPathOfNearest(path: string): string {
  const real = realPath(path);
  if (real !== null) return real;
  const parent = dirname(path);
  return parent === path ? path : join(realPathOfNearest(parent), basename(path));
}

/** The path with every symlink followed, or null when it does not exist (NN4005 reports that). */
function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** True when `path` is `folder` or inside it, by path arithmetic (resolve symlinks first). */
export function isInsideFolder(folder: string, path: string): boolean {
  const rel = relative(resolve(folder), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
