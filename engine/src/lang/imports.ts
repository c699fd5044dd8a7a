// `import "blocks.nn"`: the files a file imports, read through the caller's `SourceFiles` (no I/O
// here), their models, fns and constants placed in one combined text past the importing file's own,
// so every range stays an offset into one text and `ImportedFile.base` maps it back to its file.

import type { Diagnostic, TextRange } from './api.js';
import { makeDiagnostic } from './diagnostics.js';
import { LineIndex } from './lines.js';
import { parse } from './parser.js';
import type { ImportItem, Item, SourceFile } from './syntax.js';

/** How the checker reaches other files: the CLI reads the disk, the server its open documents first. */
export interface SourceFiles {
  /** The path an import names, from the path of the file that imports it. */
  resolve(from: string, specifier: string): string;
  /** A file's text, or why it cannot be read. */
  read(path: string): { text: string } | { error: string };
}

/** A file whose definitions the check uses: its text starts at `base` in the combined text. */
export interface ImportedFile {
  path: string;
  text: string;
  base: number;
}

/** What a file's imports add to its check. */
export interface ImportResolution {
  /** The file's text followed by each imported file's, at its `base`. */
  text: string;
  /** The imported models, fns and constants, their ranges in the combined text. */
  items: Item[];
  files: ImportedFile[];
  diagnostics: Diagnostic[];
}

/** Checks one imported file on its own (the files on `stack` are being checked around it). */
export type CheckImported = (path: string, text: string, stack: readonly string[]) => Diagnostic[];

export interface ImportContext {
  files?: SourceFiles;
  /** The importing file's own path (an import is relative to it). */
  path?: string;
  /** Files whose check is under way around this one (the outermost first). */
  stack?: readonly string[];
}

type Loaded = { tree: SourceFile; text: string; imports: { item: ImportItem; path: string }[] } | { error: string };

/** The file's imports resolved, or null when it has none. */
export function resolveImports(tree: SourceFile, text: string, context: ImportContext, checkImported: CheckImported): ImportResolution | null {
  const imports = tree.items.filter((i): i is ImportItem => i.kind === 'import');
  if (imports.length === 0) return null;
  const out: ImportResolution = { text, items: [], files: [], diagnostics: [] };
  const { files, path: root } = context;
  if (files === undefined || root === undefined) {
    for (const item of imports) out.diagnostics.push(makeDiagnostic('NN2180', item.path.range, [item.path.value, 'this check reads no files (check a saved file)']));
    return out;
  }
  const stack = [...(context.stack ?? []), root];
  const loaded = new Map<string, Loaded>();
  const load = (path: string): Loaded => {
    let file = loaded.get(path);
    if (file === undefined) {
      const read = files.read(path);
      if ('error' in read) file = read;
      else {
        const fileTree = parse(read.text).tree;
        const fileImports = fileTree.items.filter((i): i is ImportItem => i.kind === 'import').map((item) => ({ item, path: files.resolve(path, item.path.value) }));
        file = { tree: fileTree, text: read.text, imports: fileImports };
      }
      loaded.set(path, file);
    }
    return file;
  };

  // Names defined so far, with where: the file's own first, then each imported file's in import order.
  const defined = new Map<string, string>();
  for (const item of tree.items) if (item.kind === 'const' || item.kind === 'model' || item.kind === 'fn') if (!defined.has(item.name.name)) defined.set(item.name.name, 'in this file');
  const placed = new Set<string>([root]);

  for (const item of imports) {
    const path = files.resolve(root, item.path.value);
    const site = item.path.range;
    const first = load(path);
    if ('error' in first) {
      out.diagnostics.push(makeDiagnostic('NN2180', site, [item.path.value, first.error]));
      continue;
    }
    const cycle = cycleThrough(root, path, load);
    if (cycle !== null) {
      out.diagnostics.push(makeDiagnostic('NN2181', site, [[root, ...cycle].map(fileName).join(' → ')]));
      continue;
    }
    if (!stack.includes(path)) {
      const errors = checkImported(path, first.text, stack).filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        const line = new LineIndex(first.text).lineOf(errors[0].range.start) + 1;
        out.diagnostics.push(makeDiagnostic('NN2183', site, [item.path.value, errors.length, line, errors[0].message]));
      }
    }
    // The imported file and what it imports, each file placed once.
    const visit = (filePath: string): void => {
      if (placed.has(filePath)) return;
      placed.add(filePath);
      const file = load(filePath);
      if ('error' in file) return;
      for (const inner of file.imports) visit(inner.path);
      const base = out.text.length + 1;
      out.text += '\n' + file.text;
      out.files.push({ path: filePath, text: file.text, base });
      for (const definition of file.tree.items) {
        if (definition.kind !== 'const' && definition.kind !== 'model' && definition.kind !== 'fn') continue;
        const name = definition.name.name;
        const where = defined.get(name);
        if (where !== undefined) {
          if (where !== `in "${fileName(filePath)}"`) out.diagnostics.push(makeDiagnostic('NN2182', site, [name, fileName(filePath), where]));
          continue;
        }
        defined.set(name, `in "${fileName(filePath)}"`);
        out.items.push(shifted(definition, base));
      }
    };
    visit(path);
  }
  return out;
}

/** The files from `start` back to `root` along imports (`start` first, `root` last), or null. */
function cycleThrough(root: string, start: string, load: (path: string) => Loaded): string[] | null {
  const seen = new Set<string>();
  const search = (path: string, trail: string[]): string[] | null => {
    if (path === root) return trail;
    if (seen.has(path)) return null;
    seen.add(path);
    const file = load(path);
    if ('error' in file) return null;
    for (const inner of file.imports) {
      const found = search(inner.path, [...trail, inner.path]);
      if (found) return found;
    }
    return null;
  };
  return search(start, [start]);
}

/** The last part of a path, as messages name a file. */
export function fileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** A copy of a syntax subtree with every range moved by `base` (a range object shared by two nodes is moved once). */
function shifted<T>(node: T, base: number): T {
  const copies = new Map<object, object>();
  const copy = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const known = copies.get(value);
    if (known) return known;
    if (Array.isArray(value)) {
      const array: unknown[] = [];
      copies.set(value, array);
      for (const v of value) array.push(copy(v));
      return array;
    }
    if (isRange(value)) {
      const range = { start: value.start + base, end: value.end + base };
      copies.set(value, range);
      return range;
    }
    const object: Record<string, unknown> = {};
    copies.set(value, object);
    for (const [key, v] of Object.entries(value)) object[key] = copy(v);
    return object;
  };
  return copy(node) as T;
}

function isRange(value: object): value is TextRange {
  const keys = Object.keys(value);
  return keys.length === 2 && typeof (value as TextRange).start === 'number' && typeof (value as TextRange).end === 'number';
}
