// Reuse between checks of one document (the language server re-checks on every edit): the
// items the edit did not touch keep their syntax trees (reparse.ts), and a fn or model whose
// text, dependencies and the `train` blocks naming it all lie outside the edited span keeps
// the previous check's facts, their offsets moved by the edit's length change.

import type { BindingInfo, Diagnostic, Graph, LayerInfo, TextRange } from './api.js';
import type { LazyCallInfo } from './facts.js';
import type { Symbols } from './binder.js';
import { parse, type ParseResult } from './parser.js';
import { reparse } from './reparse.js';
import type { TrainItem } from './syntax.js';
import type { InstanceError } from './shapes.js';

/** What checking one fn or model adds to a check's result, in the result's own objects. */
export interface ItemFacts {
  diagnostics: Diagnostic[];
  instanceErrors: InstanceError[];
  calls: LazyCallInfo[];
  bindings: BindingInfo[];
  layers: LayerInfo[];
  summary: { range: TextRange; nameRange: TextRange };
  graphs: Graph[];
}

/** An item another depends on: its kind, name and where it was. */
interface Dependency {
  key: string;
  start: number;
  end: number;
}

interface Entry<F extends ItemFacts> {
  start: number;
  end: number;
  dependencies: Dependency[];
  facts: F;
}

/** The previous check's tree and per-item facts of one document; give each check of it the same instance. */
export class CheckReuse {
  private last: ReuseSession | null = null;

  /** How many items the last check reused. */
  get reused(): number {
    return this.last?.reused ?? 0;
  }

  /** A session for checking `text`, which reuses what the previous check allows. */
  begin(text: string): ReuseSession {
    this.last = new ReuseSession(this.last, text);
    return this.last;
  }

  /** Forgets everything: the next check is a fresh one (imports make items mean more than their text). */
  clear(): void {
    this.last = null;
  }
}

/** The span an edit replaced: old text `[from, oldEnd)` became new text `[from, newEnd)`. */
export interface Edit {
  from: number;
  oldEnd: number;
  newEnd: number;
}

function editBetween(before: string, after: string): Edit {
  const shorter = Math.min(before.length, after.length);
  // Whole blocks compare as strings (a memory comparison), then the block that differs by characters.
  const BLOCK = 4096;
  let from = 0;
  while (from + BLOCK <= shorter && before.startsWith(after.slice(from, from + BLOCK), from)) from += BLOCK;
  while (from < shorter && before.charCodeAt(from) === after.charCodeAt(from)) from++;
  let tail = 0;
  const fits = (n: number) => n <= shorter - from;
  while (fits(tail + BLOCK) && before.endsWith(after.slice(after.length - tail - BLOCK, after.length - tail), before.length - tail)) tail += BLOCK;
  while (fits(tail + 1) && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++;
  return { from, oldEnd: before.length - tail, newEnd: after.length - tail };
}

/**
 * Moves the previous text's ranges past the edit by its length change, each range object once
 * however many trees and facts share it: a moved range is marked by a negative start until
 * `settle`, which ends the moving before anything reads a range.
 */
export class RangeMover {
  private readonly marked: TextRange[] = [];
  readonly delta: number;

  constructor(readonly edit: Edit) {
    this.delta = edit.newEnd - edit.oldEnd;
  }

  offset(offset: number): number {
    return offset >= this.edit.oldEnd ? offset + this.delta : offset;
  }

  range(r: TextRange): void {
    if (r.start < this.edit.oldEnd) return; // before the edit, or moved already (marked)
    r.start = -(r.start + this.delta) - 1;
    r.end += this.delta;
    this.marked.push(r);
  }

  /** Clears the marks: every range is an offset into the new text again. */
  settle(): void {
    for (const r of this.marked) r.start = -r.start - 1;
    this.marked.length = 0;
  }

  /** Every range of a top-level item's syntax tree. */
  tree(item: object): void {
    let ranges = treeRanges.get(item);
    if (ranges === undefined) treeRanges.set(item, (ranges = rangesOf(item, [])));
    for (const r of ranges) this.range(r);
  }

  /** Every range of an item's facts, and the hint offsets of its bindings. */
  facts(facts: ItemFacts): void {
    let ranges = factRanges.get(facts);
    if (ranges === undefined) factRanges.set(facts, (ranges = rangesOfFacts(facts)));
    for (const r of ranges) this.range(r);
    for (const b of facts.bindings) b.hintOffset = this.offset(b.hintOffset);
  }
}

/** The ranges of each item's tree and facts, found once: a kept tree or fact only ever moves. */
const treeRanges = new WeakMap<object, TextRange[]>();
const factRanges = new WeakMap<ItemFacts, TextRange[]>();

/** The ranges of a syntax tree (its nodes are plain objects; a range is one with numeric `start` and `end`). */
function rangesOf(node: unknown, out: TextRange[]): TextRange[] {
  if (Array.isArray(node)) {
    for (const child of node) rangesOf(child, out);
  } else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.start === 'number' && typeof o.end === 'number') out.push(o as unknown as TextRange);
    else for (const key in o) if (typeof o[key] === 'object') rangesOf(o[key], out);
  }
  return out;
}

function rangesOfFacts(facts: ItemFacts): TextRange[] {
  const out: TextRange[] = [];
  const diagnostic = (d: Diagnostic) => {
    out.push(d.range);
    for (const r of d.related) out.push(r.range);
    for (const fix of d.fixes) for (const e of fix.edits) out.push(e.range);
  };
  facts.diagnostics.forEach(diagnostic);
  for (const e of facts.instanceErrors) diagnostic(e.diagnostic);
  for (const c of facts.calls) out.push(c.range, c.calleeRange);
  for (const b of facts.bindings) out.push(b.range);
  for (const l of facts.layers) out.push(l.range, ...l.callRanges);
  out.push(facts.summary.range, facts.summary.nameRange);
  for (const g of facts.graphs) {
    for (const v of g.values) out.push(v.range);
    for (const n of g.nodes) out.push(n.range);
    for (const p of g.params) out.push(p.param.range);
    for (const span of [...(g.checkpoints ?? []), ...(g.instanceCalls ?? [])]) out.push(span.range);
  }
  return out;
}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;

function definedNames(symbols: Symbols): Set<string> {
  return new Set([...symbols.consts.keys(), ...symbols.models.keys(), ...symbols.fns.keys()]);
}

/** Whether `name` occurs in `text[start, end)` as a whole identifier. */
function mentions(text: string, start: number, end: number, name: string): boolean {
  const isPart = (code: number) => (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
  for (let at = text.indexOf(name, start); at >= 0 && at + name.length <= end; at = text.indexOf(name, at + 1)) {
    if (!isPart(text.charCodeAt(at - 1)) && !isPart(text.charCodeAt(at + name.length))) return true;
  }
  return false;
}

export class ReuseSession {
  /** The facts of this check's items, for the next check. */
  readonly kept = new Map<string, Entry<ItemFacts>>();
  reused = 0;
  /** This check's parse and names, for the next check. */
  parsed: ParseResult | null = null;
  names: ReadonlySet<string> = new Set();
  private symbols: Symbols | null = null;
  /** Names defined now and not in the previous check: an unchanged text that mentions one may now read it. */
  private newNames: readonly string[] = [];
  private readonly direct = new Map<string, Dependency[]>();
  private readonly mover: RangeMover | null;
  /** What the previous check left, until this one is done. */
  private previous: { text: string; parsed: ParseResult | null; names: ReadonlySet<string>; kept: ReadonlyMap<string, Entry<ItemFacts>> } | null;

  constructor(
    previous: ReuseSession | null,
    readonly text: string,
  ) {
    this.previous = previous && { text: previous.text, parsed: previous.parsed, names: previous.names, kept: previous.kept };
    this.mover = this.previous ? new RangeMover(editBetween(this.previous.text, text)) : null;
  }

  /** This text's parse: the previous tree with the items the edit touched parsed again, when that is the same as a whole parse. */
  parse(tokens: boolean): ParseResult {
    const before = this.previous?.parsed;
    const usable = before && this.mover && before.errors.length === 0 && (!tokens || before.tokens !== undefined);
    this.parsed = (usable ? reparse(before, this.text, this.mover!, tokens) : null) ?? parse(this.text, { tokens });
    // The previous facts move now, with the trees, before anything reads a range; those of items checked again are dropped later.
    if (this.mover && this.mover.delta !== 0) {
      for (const entry of this.previous!.kept.values()) this.mover.facts(entry.facts);
      this.mover.settle();
    }
    return this.parsed;
  }

  /** The file's names, once bound. */
  attach(symbols: Symbols): void {
    this.symbols = symbols;
    this.names = definedNames(symbols);
    const before = this.previous?.names ?? new Set<string>();
    this.newNames = [...this.names].filter((n) => !before.has(n));
  }

  /** Lets go of the previous check's tree and facts. */
  finish(): void {
    this.previous = null;
    this.symbols = null;
  }

  /** The previous check's facts of `key` (`model:Net`) at `range`, moved to this text; null when it must be checked again. */
  reuse<F extends ItemFacts>(key: string, range: TextRange): F | null {
    const entry = this.previous?.kept.get(key);
    if (entry === undefined || !this.sameAs(range, entry)) return null;
    // What it read then is where it was, unedited; and nothing it did not read is new to it.
    for (const d of entry.dependencies) if (!this.sameAs(this.itemOf(d.key), d)) return null;
    if (key.startsWith('model:') && this.trainsOf(key.slice('model:'.length)).length !== entry.dependencies.filter((d) => d.key.startsWith('train:')).length) return null;
    for (const name of this.newNames) {
      if (mentions(this.text, range.start, range.end, name)) return null;
      for (const d of entry.dependencies) {
        const now = this.itemOf(d.key)!;
        if (mentions(this.text, now.start, now.end, name)) return null;
      }
    }
    this.reused++;
    const dependencies = entry.dependencies.map((d) => ({ key: d.key, ...this.itemOf(d.key)! }));
    this.keep(key, range, entry.facts, dependencies);
    return entry.facts as F;
  }

  /** Whether a range of this text (null: gone) is, unedited, where `then` was in the previous one. */
  private sameAs(range: { start: number; end: number } | null, then: { start: number; end: number }): boolean {
    const old = range && this.before(range);
    return old !== null && old.start === then.start && old.end === then.end;
  }

  /** Where the item of a dependency key (`model:Net`, `train:Net#0`) is now; null when there is none. */
  private itemOf(key: string): TextRange | null {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (kind === 'train') {
      const hash = name.lastIndexOf('#');
      return this.trainsOf(name.slice(0, hash))[Number(name.slice(hash + 1))]?.range ?? null;
    }
    const symbols = this.symbols!;
    const item = kind === 'model' ? symbols.models.get(name) : kind === 'fn' ? symbols.fns.get(name) : symbols.consts.get(name);
    return item?.range ?? null;
  }

  private trainsOf(model: string): TrainItem[] {
    return this.symbols!.trains.filter((t) => t.model.name === model);
  }

  /** Keeps a freshly checked item's facts for the next check. */
  keep(key: string, range: TextRange, facts: ItemFacts, dependencies = this.closure(key, range)): void {
    this.kept.set(key, { start: range.start, end: range.end, dependencies, facts });
  }

  /** Where a range of this text was in the previous one; null inside the edited span. */
  private before(range: { start: number; end: number }): { start: number; end: number } | null {
    const { edit, delta } = this.mover!;
    if (range.end <= edit.from) return range;
    if (range.start >= edit.newEnd) return { start: range.start - delta, end: range.end - delta };
    return null;
  }

  /** Every item `key` reads, directly or through others, and the `train` blocks naming a model. */
  private closure(key: string, range: TextRange): Dependency[] {
    const seen = new Map<string, Dependency>();
    const visit = (k: string, r: TextRange) => {
      for (const d of this.directOf(k, r)) {
        if (seen.has(d.key) || d.key === key) continue;
        seen.set(d.key, d);
        visit(d.key, d);
      }
    };
    visit(key, range);
    if (key.startsWith('model:')) {
      const name = key.slice('model:'.length);
      this.trainsOf(name).forEach((t, k) => seen.set(`train:${name}#${k}`, { key: `train:${name}#${k}`, start: t.range.start, end: t.range.end }));
    }
    return [...seen.values()];
  }

  /** The file's fns, models and constants whose names appear in an item's text. */
  private directOf(key: string, range: { start: number; end: number }): Dependency[] {
    let found = this.direct.get(key);
    if (found !== undefined) return found;
    found = [];
    const names = new Set(this.text.slice(range.start, range.end).match(IDENTIFIER));
    for (const name of names) {
      const { consts, models, fns } = this.symbols!;
      const item = models.get(name) ?? fns.get(name) ?? consts.get(name);
      if (item) found.push({ key: `${item.kind}:${name}`, start: item.range.start, end: item.range.end });
    }
    this.direct.set(key, found);
    return found;
  }
}
