// Where the server may write: inside a workspace folder (or, with none open, the folder of
// the document being run). Every output path of a run or export is checked here first.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInsideFolder, realPathOfNearest } from '../../../engine/src/data/paths.js';

export function filePathOf(uri: string): string | null {
  return uri.startsWith('file:') ? fileURLToPath(uri) : null;
}

/** The absolute path of `target` (relative to the document's folder), or why it may not be written. */
export function writablePath(roots: readonly string[], documentPath: string, target: string): { path: string } | { error: string } {
  const path = resolve(dirname(documentPath), target);
  const allowed = roots.length > 0 ? roots : [dirname(documentPath)];
  // Symlinks are followed first, so a link inside the workspace cannot lead a write outside.
  const real = realPathOfNearest(path);
  if (allowed.some((root) => isInsideFolder(realPathOfNearest(root), real))) return { path };
  return { error: `${path} is outside the workspace (${allowed.join(', ')}); NN Studio never writes outside the workspace folder.` };
}

