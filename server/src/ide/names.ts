// Name resolution over tokens for the editor: top-level items, the local names of each
// model and fn (inputs, hyper-parameters, symbolic dims, bindings), and what every name
// occurrence refers to — enough for definition, references, rename and semantic tokens.

import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Token } from './syntax.js';

export type ItemKind = 'const' | 'model' | 'fn' | 'train';

export interface Item {
  kind: ItemKind;
  name: string; // for `train`: the model it trains
  nameRange: TextRange;
  range: TextRange; // from the keyword to the closing brace (or the end of a const)
}

export type Role =
  | 'item' // the name of a const, model or fn
  | 'input' // a model's or fn's argument
  | 'hyperParam' // `c` in `model Residual[c](...)`
  | 'dim' // a symbolic dim in a signature (`B`, `H`)
  | 'gradParam' // `g` in `grad(g)`
  | 'binding' // `h = ...` in a body
  | 'reference' // any use of a name
  | 'keywordArg' // `stride` in `max_pool2d(h, 2, stride = 2)`
  | 'trainKey'; // `data` in a `train` block

export interface Occurrence {
  name: string;
  range: TextRange;
  role: Role;
  /** Index into `items` of the item the occurrence is in, or -1 between items. */
  item: number;
  /** For a binding: the offset from which the new value is visible (its statement's end). */
  visibleFrom: number;
  /** True when the name is followed by `(` (a call or a constructor). */
  called: boolean;
}

export interface NameIndex {
  items: Item[];
  occurrences: Occurrence[]; // in source order
}

/** What an occurrence refers to: a local of an item, or a top-level item. */
export interface SymbolRef {
  scope: number; // item index for a local, -1 for a top-level item
  name: string;
}

const localRoles: ReadonlySet<Role> = new Set(['input', 'hyperParam', 'dim', 'gradParam', 'binding']);
const binaryOperators = new Set(['+', '-', '*', '/', '**', '@', '|>', '=', ',', '->', ':']);

/** Builds the name index of a document from its tokens (comments excluded). */
export function indexNames(tokens: readonly Token[], text: string): NameIndex {
  const items: Item[] = [];
  const occurrences: Occurrence[] = [];
  let braceDepth = 0;
  let parenDepth = 0;
  let current = -1; // the item being read
  let section: 'signature' | 'output' | 'body' | 'none' = 'none';
  let pendingBindings: Occurrence[] = [];
  let gradParamsOpen = false;

  const closeStatement = (at: number) => {
    for (const b of pendingBindings) b.visibleFrom = at;
    pendingBindings = [];
  };
  const startsLine = (i: number) => i === 0 || text.slice(tokens[i - 1].end, tokens[i].start).includes('\n');
  const isStatementStart = (i: number) => {
    if (i === 0) return true;
    const previous = tokens[i - 1];
    if (previous.text === '{' || previous.text === ';' || previous.text === '}') return true;
    return startsLine(i) && parenDepth === 0 && !binaryOperators.has(previous.text) && tokens[i].text !== '|>';
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    if (parenDepth === 0 && startsLine(i) && isStatementStart(i)) {
      closeStatement(token.start);
      // A const ends with its statement.
      if (braceDepth === 0 && current >= 0 && items[current].kind === 'const' && section !== 'none') {
        items[current].range.end = tokens[i - 1].end;
        section = 'none';
      }
    }

    if (token.kind === 'keyword' && braceDepth === 0 && parenDepth === 0 && isItemKeyword(token.text)) {
      if (next && next.kind === 'name') {
        items.push({
          kind: token.text as ItemKind,
          name: next.text,
          nameRange: { start: next.start, end: next.end },
          range: { start: token.start, end: next.end },
        });
        current = items.length - 1;
        section = token.text === 'const' ? 'body' : 'signature';
        occurrences.push(occurrence(next, token.text === 'train' ? 'reference' : 'item', token.text === 'train' ? -1 : current, tokens[i + 2]));
        i++;
        continue;
      }
    }

    if (token.text === '{') {
      braceDepth++;
      if (braceDepth === 1) section = 'body';
    } else if (token.text === '}') {
      braceDepth = Math.max(0, braceDepth - 1);
      if (braceDepth === 0 && current >= 0) {
        items[current].range.end = token.end;
        closeStatement(token.start);
        // `} grad(g) {` continues the fn; anything else ends the item.
        if (!(next && next.kind === 'keyword' && next.text === 'grad')) section = 'none';
      }
    } else if (token.text === '(' || token.text === '[') {
      parenDepth++;
    } else if (token.text === ')' || token.text === ']') {
      parenDepth = Math.max(0, parenDepth - 1);
      if (gradParamsOpen && parenDepth === 0) gradParamsOpen = false;
    } else if (token.text === ';') {
      closeStatement(token.end);
    } else if (token.text === '->' && braceDepth === 0) {
      section = 'output';
    } else if (token.kind === 'keyword' && token.text === 'grad' && braceDepth === 0) {
      gradParamsOpen = true;
    }

    if (token.kind !== 'name') continue;
    const item = current >= 0 && section !== 'none' ? items[current] : null;
    const scope = item ? current : -1;

    if (item && braceDepth === 0 && item.kind !== 'const' && item.kind !== 'train') {
      // Signature: hyper-parameters, inputs, dims, the output shape, grad(g).
      if (gradParamsOpen) {
        occurrences.push(occurrence(token, 'gradParam', scope, next));
      } else if (section === 'signature' && next?.text === ':' && parenDepth === 1) {
        occurrences.push(occurrence(token, 'input', scope, next));
      } else if (section === 'signature' && parenDepth === 1 && isHyperParamList(tokens, i)) {
        occurrences.push(occurrence(token, 'hyperParam', scope, next));
      } else if (token.text === 'int') {
        continue; // the element type of an int input
      } else {
        const defined = occurrences.some((o) => o.item === scope && o.name === token.text && localRoles.has(o.role));
        const global = items.some((it) => it.kind === 'const' && it.name === token.text);
        occurrences.push(occurrence(token, defined || global || section === 'output' ? 'reference' : 'dim', scope, next));
      }
      continue;
    }

    if (next?.text === '=' && parenDepth > 0) {
      occurrences.push(occurrence(token, 'keywordArg', scope, next));
    } else if (next?.text === '=' && parenDepth === 0 && braceDepth > 0 && isStatementStart(i)) {
      if (item?.kind === 'train') {
        occurrences.push(occurrence(token, 'trainKey', scope, next));
      } else {
        const binding = occurrence(token, 'binding', scope, next);
        binding.visibleFrom = Number.MAX_SAFE_INTEGER;
        pendingBindings.push(binding);
        occurrences.push(binding);
      }
    } else {
      occurrences.push(occurrence(token, 'reference', scope, next));
    }
  }
  closeStatement(text.length);
  if (current >= 0 && items[current].kind === 'const' && section !== 'none' && tokens.length > 0) {
    items[current].range.end = tokens[tokens.length - 1].end;
  }
  return { items, occurrences };
}

function isItemKeyword(word: string): boolean {
  return word === 'const' || word === 'model' || word === 'fn' || word === 'train';
}

/** True when the name sits inside `model NAME[ ... ]` (hyper-parameters, before the inputs). */
function isHyperParamList(tokens: readonly Token[], i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const t = tokens[j];
    if (t.text === '(' || t.text === ':' || t.text === ']' || t.text === ')') return false;
    if (t.text === '[') return tokens[j - 1]?.kind === 'name' && tokens[j - 2]?.text === 'model';
  }
  return false;
}

function occurrence(token: Token, role: Role, item: number, next: Token | undefined): Occurrence {
  return {
    name: token.text,
    range: { start: token.start, end: token.end },
    role,
    item,
    visibleFrom: token.start,
    called: next?.text === '(',
  };
}

/** The occurrence whose name contains the offset (its end included, for a cursor after it). */
export function occurrenceAt(index: NameIndex, offset: number): Occurrence | null {
  // Occurrences are in source order: binary-search the last one starting at or before the offset.
  const list = index.occurrences;
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].range.start <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found >= 0 && offset <= list[found].range.end ? list[found] : null;
}

/** What a name occurrence refers to, or null for built-ins, keyword arguments and train keys. */
export function symbolOf(index: NameIndex, o: Occurrence): SymbolRef | null {
  if (o.role === 'keywordArg' || o.role === 'trainKey') return null;
  if (o.role === 'item') return { scope: -1, name: o.name };
  if (localRoles.has(o.role)) return { scope: o.item, name: o.name };
  if (o.item >= 0 && index.occurrences.some((d) => d.item === o.item && d.name === o.name && localRoles.has(d.role))) {
    return { scope: o.item, name: o.name };
  }
  if (index.items.some((it) => it.kind !== 'train' && it.name === o.name)) return { scope: -1, name: o.name };
  return null;
}

/** The definition a reference sees: the latest binding visible at it, else the first definition. */
export function definitionOf(index: NameIndex, o: Occurrence): TextRange | null {
  const symbol = symbolOf(index, o);
  if (!symbol) return null;
  if (symbol.scope < 0) {
    const item = index.items.find((it) => it.kind !== 'train' && it.name === symbol.name);
    return item ? item.nameRange : null;
  }
  if (localRoles.has(o.role)) return o.range;
  const definitions = index.occurrences.filter((d) => d.item === symbol.scope && d.name === symbol.name && localRoles.has(d.role));
  const visible = definitions.filter((d) => d.visibleFrom <= o.range.start);
  return (visible.length > 0 ? visible[visible.length - 1] : definitions[0]).range;
}

/** Every occurrence of a symbol (definitions first when `definitionsFirst`), in source order. */
export function occurrencesOf(index: NameIndex, symbol: SymbolRef): Occurrence[] {
  return index.occurrences.filter((o) => {
    if (o.name !== symbol.name) return false;
    const s = symbolOf(index, o);
    return s !== null && s.scope === symbol.scope;
  });
}

/** The item (model, fn, train, const) that contains an offset, or null. */
export function itemAt(index: NameIndex, offset: number): Item | null {
  return index.items.find((it) => it.range.start <= offset && offset <= it.range.end) ?? null;
}
