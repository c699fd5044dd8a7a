// Where the server may write: inside a workspace folder (or, with none open, the folder of
// the document being run). Every output path of a run or export is checked here first.

import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function filePathOf(uri: string): string | null {
  return uri.startsWith('file:') ? fileURLToPath(uri) : null;
}

/** True when `path` is `root` or inside it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The absolute path of `target` (relative to the document's folder), or why it may not be written. */
export function writablePath(roots: readonly string[], documentPath: string, target: string): { path: string } | { error: string } {
  const path = resolve(dirname(documentPath), target);
  const allowed = roots.length > 0 ? roots : [dirname(documentPath)];
  if (allowed.some((root) => isInside(root, path))) return { path };
  return { error: `${path} is outside the workspace (${allowed.join(', ')}); NN Studio never writes outside the workspace folder.` };
}
