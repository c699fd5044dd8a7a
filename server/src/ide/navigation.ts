// Go to definition, find references and rename over the name index: layers, bindings,
// inputs, dims, consts, fns and models. Built-in names have no definition and cannot be renamed.

import type { TextEdit, TextRange } from '../../../engine/src/lang/api.js';
import type { Analysis } from './analysis.js';
import { KEYWORDS, builtin } from './builtins.js';
import { definitionOf, occurrenceAt, occurrencesOf, symbolOf, type Occurrence } from './names.js';

export function definition(analysis: Analysis, offset: number): TextRange | null {
  const o = occurrenceAt(analysis.names, offset);
  return o ? definitionOf(analysis.names, o) : null;
}

export function references(analysis: Analysis, offset: number, includeDeclaration: boolean): TextRange[] {
  const o = occurrenceAt(analysis.names, offset);
  const symbol = o ? symbolOf(analysis.names, o) : null;
  if (!symbol) return [];
  return occurrencesOf(analysis.names, symbol)
    .filter((r) => includeDeclaration || r.role === 'reference')
    .map((r) => r.range);
}

/** The range a rename would change at the offset, or null when nothing there can be renamed. */
export function prepareRename(analysis: Analysis, offset: number): TextRange | null {
  const o = occurrenceAt(analysis.names, offset);
  return o && symbolOf(analysis.names, o) ? o.range : null;
}

export type RenameResult = { edits: TextEdit[] } | { error: string };

export function rename(analysis: Analysis, offset: number, newName: string): RenameResult {
  const o = occurrenceAt(analysis.names, offset);
  const symbol = o ? symbolOf(analysis.names, o) : null;
  if (!o || !symbol) return { error: 'Only names defined in this file can be renamed (not built-ins, keys or keyword arguments).' };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) return { error: `\`${newName}\` is not a name: use letters, digits and _ and start with a letter.` };
  if ((KEYWORDS as readonly string[]).includes(newName)) return { error: `\`${newName}\` is a keyword.` };
  if (builtin(newName)) return { error: `\`${newName}\` is a built-in; renaming to it would shadow it.` };
  const clash = clashes(analysis, o, symbol.scope, newName);
  if (clash) return { error: clash };
  return { edits: occurrencesOf(analysis.names, symbol).map((r) => ({ range: r.range, newText: newName })) };
}

/** A reason the new name would change what other names mean, or null. */
function clashes(analysis: Analysis, o: Occurrence, scope: number, newName: string): string | null {
  const { names } = analysis;
  if (scope >= 0) {
    const taken = names.occurrences.some((d) => d.item === scope && d.name === newName && d.role !== 'reference' && d.role !== 'keywordArg');
    if (taken) return `\`${newName}\` is already defined in \`${names.items[scope].name}\`.`;
    return null;
  }
  if (names.items.some((it) => it.kind !== 'train' && it.name === newName)) return `\`${newName}\` is already defined at the top level.`;
  const shadowedIn = names.occurrences.find((d) => d.name === newName && d.item >= 0 && d.role !== 'reference' && d.role !== 'keywordArg' && d.role !== 'trainKey' && usesGlobalIn(names.occurrences, o.name, d.item));
  return shadowedIn ? `\`${newName}\` is a local name in \`${names.items[shadowedIn.item].name}\`, which uses \`${o.name}\`.` : null;
}

function usesGlobalIn(occurrences: readonly Occurrence[], name: string, item: number): boolean {
  return occurrences.some((r) => r.item === item && r.name === name && r.role === 'reference');
}
