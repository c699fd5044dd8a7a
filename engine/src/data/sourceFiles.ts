// The `.nn` files an `import` names, read from disk (an editor's open documents first), for the
// checker's `SourceFiles`: the checker itself reads no files.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SourceFiles } from '../lang/imports.js';

/** Files on disk; `open` gives an editor's unsaved text of a path, which wins over the disk's. */
export function diskSourceFiles(open: (path: string) => string | undefined = () => undefined): SourceFiles {
  return {
    resolve: (from, specifier) => resolve(dirname(from), specifier),
    read: (path) => {
      const text = open(path);
      if (text !== undefined) return { text };
      try {
        return { text: readFileSync(path, 'utf8') };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return { error: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : `unreadable (${code ?? String(error)})` };
      }
    },
  };
}

/** The checker's options for imports of the `.nn` file at `file`. */
export function sourceChecks(file: string, open?: (path: string) => string | undefined): { files: SourceFiles; path: string } {
  return { files: diskSourceFiles(open), path: resolve(file) };
}
