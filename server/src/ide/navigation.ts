// Go to definition, find references and rename over the checker's semantic model: layers,
// params, bindings, inputs, dims, hyper-parameters, consts, fns and models. Built-in names,
// keyword arguments and train keys have no definition here and cannot be renamed.

import type { TextEdit, TextRange } from '../../../engine/src/lang/api.js';
import { LANGUAGE_KEYWORDS } from '../../../engine/src/lang/catalogue.js';
import type { SemanticModel, SymbolId } from '../../../engine/src/lang/semantics.js';
import { builtinFunction, layerDef } from '../../../engine/src/ops/registry.js';
import { importedLocation, type Analysis } from './analysis.js';

/** The symbol of the name at the offset, and the occurrence there. */
function symbolAt(semantics: SemanticModel, offset: number): { id: SymbolId; range: TextRange; definition: TextRange } | null {
  const o = semantics.occurrenceAt(offset);
  return o && (o.role === 'definition' || o.role === 'reference') ? { id: o.symbol, range: o.range, definition: o.definition } : null;
}

/** Where the name at the offset is defined: in this file (`file` null), or in an imported file, with its path and text. */
export function definition(analysis: Analysis, offset: number): { file: { path: string; text: string } | null; range: TextRange } | null {
  const range = symbolAt(analysis.semantics, offset)?.definition;
  if (range === undefined) return null;
  return importedLocation(analysis.check, range) ?? { file: null, range };
}

export function references(analysis: Analysis, offset: number, includeDeclaration: boolean): TextRange[] {
  const at = symbolAt(analysis.semantics, offset);
  if (!at) return [];
  return analysis.semantics
    .occurrencesOf(at.id)
    .filter((o) => includeDeclaration || o.role === 'reference')
    .map((o) => o.range);
}

/** The range a rename would change at the offset, or null when nothing there can be renamed. */
export function prepareRename(analysis: Analysis, offset: number): TextRange | null {
  return symbolAt(analysis.semantics, offset)?.range ?? null;
}

export type RenameResult = { edits: TextEdit[] } | { error: string };

export function rename(analysis: Analysis, offset: number, newName: string): RenameResult {
  const { semantics } = analysis;
  const at = symbolAt(semantics, offset);
  if (!at) return { error: 'Only names defined in this file can be renamed (not built-ins, keys or keyword arguments).' };
  if (at.definition.start > analysis.text.length) return { error: `\`${semantics.symbol(at.id).name}\` is defined in an imported file: rename it there.` };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) return { error: `\`${newName}\` is not a name: use letters, digits and _ and start with a letter.` };
  if (LANGUAGE_KEYWORDS.includes(newName)) return { error: `\`${newName}\` is a keyword.` };
  if (builtinFunction(newName) || layerDef(newName) || newName === 'param') return { error: `\`${newName}\` is a built-in; renaming to it would shadow it.` };
  const clash = clashes(semantics, at.id, newName);
  if (clash) return { error: clash };
  return { edits: semantics.occurrencesOf(at.id).map((o) => ({ range: o.range, newText: newName })) };
}

/** A reason the new name would change what other names mean, or null. */
function clashes(semantics: SemanticModel, id: SymbolId, newName: string): string | null {
  const symbol = semantics.symbol(id);
  if (symbol.owner !== null) {
    if (semantics.localsOf(symbol.owner).some((s) => s.name === newName)) return `\`${newName}\` is already defined in \`${symbol.owner}\`.`;
    // The local would hide a top-level name its body uses.
    const global = semantics.topLevel(newName);
    const hidden = global && semantics.occurrencesOf(global.id).some((o) => semantics.items[o.item]?.name === symbol.owner && o.role === 'reference');
    return hidden ? `\`${newName}\` is a top-level name that \`${symbol.owner}\` uses.` : null;
  }
  if (semantics.topLevel(newName)) return `\`${newName}\` is already defined at the top level.`;
  // A local of that name in a body that uses the renamed item would capture its uses.
  const users = new Set(semantics.occurrencesOf(id).map((o) => semantics.items[o.item]?.name));
  const shadowing = semantics.symbols.find((s) => s.owner !== null && s.name === newName && users.has(s.owner));
  return shadowing ? `\`${newName}\` is a local name in \`${shadowing.owner}\`, which uses \`${symbol.name}\`.` : null;
}
