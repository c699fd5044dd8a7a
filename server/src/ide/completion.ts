// Completion, filtered by where the cursor is: inside a `train` block only its keys, or after
// `key =` that key's values (data sets, losses, optimizers...); inside a call its keyword
// arguments first; after `|>` only what takes a tensor (layers, blocks, fns and the built-in
// functions of a tensor); elsewhere in a body the names in scope, the built-ins and `return`;
// between items the item keywords. Names and signatures come from the semantic model and the
// engine's catalogue.

import { ITEM_KEYWORDS, type Token } from '../../../engine/src/lang/scanner.js';
import { catalogueEntries, catalogueEntry, type CatalogueEntry, type EntryKind } from '../../../engine/src/lang/catalogue.js';
import type { SemanticItem, SemanticSymbol } from '../../../engine/src/lang/semantics.js';
import { BACKENDS, NO_DECAY_GROUPS, SCHEDULES, trainCallSignature, trainKeyDef, type TrainValueKind } from '../../../engine/src/lang/trainCatalogue.js';
import { fnNamed, modelNamed, type Analysis } from './analysis.js';

export type CompletionKind = 'keyword' | 'function' | 'layer' | 'variable' | 'constant' | 'model' | 'fn' | 'key' | 'value' | 'argument';

export interface Completion {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  insertText?: string;
}

/** The catalogue entries a train key's value is one of, or literal values. */
const VALUES_OF: Partial<Record<TrainValueKind, EntryKind | readonly string[]>> = {
  data: 'dataset',
  loss: 'loss',
  optimizer: 'optimizer',
  backend: BACKENDS.map((b) => `"${b}"`),
  validate: ['"test"'],
  decay_groups: NO_DECAY_GROUPS.map((g) => `"${g}"`),
  schedule: Object.values(SCHEDULES).map((s) => trainCallSignature(s.name, s.params.filter((p) => p.default === undefined && p.defaultText === undefined))),
};

export function completions(analysis: Analysis, offset: number): Completion[] {
  const { semantics } = analysis;
  const before = semantics.tokens.filter((t) => t.end <= offset && t.kind !== 'comment');
  const item = semantics.itemAt(offset);
  const lineTokens = tokensOnLineBefore(analysis.text, before, offset);
  const insideBraces = item !== null && item.kind !== 'const' && before.some((t) => t.text === '{' && t.start > item.range.start);
  const call = enclosingCall(before);
  const argumentNames = call ? keywordArguments(analysis, call, item) : [];

  if (item?.kind === 'train' && insideBraces) {
    if (call) return argumentNames;
    const key = lineTokens.length >= 2 && lineTokens[1].text === '=' ? lineTokens[0].text : null;
    if (key === null) return catalogueEntries('trainKey').map((e) => ({ label: e.name, kind: 'key', detail: e.signature, documentation: e.summary, insertText: `${e.name} = ` }));
    const values = VALUES_OF[trainKeyDef(key)?.value ?? 'path'];
    if (values === undefined) return [];
    if (typeof values !== 'string') return values.map((v) => ({ label: v, kind: 'value' }));
    return catalogueEntries(values).map(entryCompletion);
  }
  if (!item || (!insideBraces && item.kind !== 'const')) {
    if (call) return [...argumentNames, ...scopeNames(analysis, offset, null)];
    return ITEM_KEYWORDS.map((k) => ({ label: k, kind: 'keyword' }));
  }

  const previous = before[before.length - 1];
  if (previous?.text === '=' && before[before.length - 2]?.text === 'init' && call?.callee === 'param') {
    return catalogueEntries('init').map(entryCompletion);
  }
  const owner = item.kind === 'model' || item.kind === 'fn' ? item : null;
  // After `|>`: a stage takes the tensor on its left.
  if (previous?.text === '|>') return pipeStages(analysis, offset, owner);

  const out: Completion[] = [...argumentNames];
  if (lineTokens.length === 0) out.push({ label: 'return', kind: 'keyword' });
  out.push(...scopeNames(analysis, offset, owner));
  out.push(...catalogueEntries('function').map(entryCompletion), ...catalogueEntries('loss').map(entryCompletion));
  if (item.kind === 'model') out.push(...catalogueEntries('layer').map(entryCompletion), entryCompletion(catalogueEntry('param', 'param')!));
  out.push({ label: 'true', kind: 'keyword' }, { label: 'false', kind: 'keyword' });
  return out;
}

function entryCompletion(e: CatalogueEntry): Completion {
  const kind: CompletionKind = e.kind === 'layer' ? 'layer' : e.kind === 'function' || e.kind === 'loss' || e.kind === 'param' ? 'function' : 'value';
  return { label: e.name, kind, detail: e.signature, documentation: e.summary };
}

/** What may follow `|>`: declared layers, blocks, fns, layer constructors and the built-in functions of a tensor. */
function pipeStages(analysis: Analysis, offset: number, owner: SemanticItem | null): Completion[] {
  const locals = scopeNames(analysis, offset, owner).filter((c) => {
    const symbol = owner ? analysis.semantics.localsOf(owner.name).find((s) => s.name === c.label) : undefined;
    return symbol ? symbol.kind === 'layer' : c.kind === 'model' || c.kind === 'fn';
  });
  const builtins = [...catalogueEntries('function'), ...(owner?.kind === 'model' ? catalogueEntries('layer') : [])].filter((e) => e.takesTensor);
  return [...locals, ...builtins.map(entryCompletion)];
}

/** Locals visible at the offset (one entry per name) and the top-level consts, models and fns. */
function scopeNames(analysis: Analysis, offset: number, owner: SemanticItem | null): Completion[] {
  const { semantics, check } = analysis;
  const out = new Map<string, Completion>();
  for (const symbol of owner ? semantics.localsOf(owner.name) : []) {
    if (out.has(symbol.name) || !visible(symbol, offset, owner!)) continue;
    const layer = check.layers.find((l) => l.model === owner!.name && l.name === symbol.name);
    const binding = check.bindings.find((b) => b.model === owner!.name && b.name === symbol.name);
    out.set(symbol.name, {
      label: symbol.name,
      kind: 'variable',
      detail: layer ? `${layer.ctor}: ${layer.inShape ?? '?'} → ${layer.outShape ?? '?'}` : binding ? binding.shape : symbol.kind,
    });
  }
  // The file's own items, then what its imports define (top-level symbols defined past its end).
  const imported = semantics.symbols.filter((s) => s.owner === null && s.definitions[0].start > analysis.text.length);
  for (const item of [...semantics.items, ...imported]) {
    if (item.kind === 'train' || out.has(item.name)) continue;
    const model = modelNamed(check, item.name);
    const fn = fnNamed(check, item.name);
    out.set(item.name, {
      label: item.name,
      kind: item.kind === 'const' ? 'constant' : item.kind === 'model' ? 'model' : 'fn',
      detail: model ? `model ${model.name}(${model.inputs.map((i) => i.shape).join(', ')}) -> ${model.output}` : fn ? `fn ${fn.name}(${fn.inputs.map((i) => `${i.name}: ${i.shape}`).join(', ')}) -> ${fn.output}` : item.kind,
    });
  }
  return [...out.values()];
}

/** A local is offered where it is defined: a binding from its definition on, within its own body. */
function visible(symbol: SemanticSymbol, offset: number, owner: SemanticItem): boolean {
  if (symbol.kind !== 'binding') return true;
  return symbol.definitions[0].start <= offset && offset <= owner.range.end;
}

function tokensOnLineBefore(text: string, before: readonly Token[], offset: number): Token[] {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return before.filter((t) => t.start >= lineStart);
}

/** The innermost unclosed call before the cursor: its callee and the tokens since its `(`. */
export function enclosingCall(before: readonly Token[]): { callee: string; open: number; args: Token[] } | null {
  let depth = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    const t = before[i];
    if (t.text === ')' || t.text === ']') depth++;
    else if (t.text === '[') depth = Math.max(0, depth - 1);
    else if (t.text === '(') {
      if (depth > 0) {
        depth--;
        continue;
      }
      const callee = before[i - 1];
      if (!callee || callee.kind !== 'name') return null;
      return { callee: callee.text, open: i, args: before.slice(i + 1) };
    } else if (t.text === '{' || t.text === '}') return null;
  }
  return null;
}

/** The entry whose parameters a call's keyword arguments name: a built-in, a data set or optimizer in a train block. */
export function calleeEntry(callee: string, item: SemanticItem | null): CatalogueEntry | undefined {
  const kinds: EntryKind[] = item?.kind === 'train' ? ['dataset', 'optimizer'] : ['function', 'loss', 'layer', 'param', 'init'];
  for (const kind of kinds) {
    const entry = catalogueEntry(callee, kind);
    if (entry) return entry;
  }
  return undefined;
}

function keywordArguments(analysis: Analysis, call: { callee: string; args: Token[] }, item: SemanticItem | null): Completion[] {
  const given = new Set(call.args.filter((t, i) => t.kind === 'name' && call.args[i + 1]?.text === '=').map((t) => t.text));
  const entry = calleeEntry(call.callee, item);
  if (entry) {
    return entry.params
      .filter((p) => !p.tensor && !given.has(p.name))
      .map((p) => ({ label: `${p.name} =`, kind: 'argument', detail: p.label, insertText: `${p.name} = `, ...(p.doc ? { documentation: p.doc } : {}) }));
  }
  // A block's hyper-parameters.
  const model = modelNamed(analysis.check, call.callee);
  return (model?.hyperParams ?? []).filter((h) => !given.has(h)).map((h) => ({ label: `${h} =`, kind: 'argument', detail: `hyper-parameter of ${model!.name}`, insertText: `${h} = ` }));
}
