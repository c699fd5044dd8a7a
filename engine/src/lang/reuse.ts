// Reuse between checks of one document (the language server re-checks on every edit): a fn or
// model whose text, dependencies and the `train` blocks naming it all lie outside the edited
// span keeps the previous check's results, their offsets moved by the edit's length change.

import type { BindingInfo, Diagnostic, Graph, LayerInfo, TextRange } from './api.js';
import type { LazyCallInfo } from './facts.js';
import type { Symbols } from './binder.js';
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

/** The previous check's per-item facts of one document; give each check of it the same instance. */
export class CheckReuse {
  private text: string | null = null;
  private names: ReadonlySet<string> = new Set();
  private entries = new Map<string, Entry<ItemFacts>>();
  private session: ReuseSession | null = null;

  /** How many items the last check reused. */
  get reused(): number {
    return this.session?.reused ?? 0;
  }

  /** A session for checking `text`, which reuses what the previous check's items allow; ends with `finish`. */
  begin(text: string, symbols: Symbols): ReuseSession {
    const names = definedNames(symbols);
    const session = new ReuseSession(this.text, text, symbols, this.entries, [...names].filter((n) => !this.names.has(n)));
    this.text = text;
    this.names = names;
    this.entries = session.kept;
    this.session = session;
    return session;
  }

  /** Forgets everything: the next check is a fresh one (an import or a setting changed what items mean). */
  clear(): void {
    this.text = null;
    this.names = new Set();
    this.entries = new Map();
    this.session = null;
  }
}

/** The span an edit replaced: old text `[from, oldEnd)` became new text `[from, newEnd)`. */
interface Edit {
  from: number;
  oldEnd: number;
  newEnd: number;
}

function editBetween(before: string, after: string): Edit {
  const shorter = Math.min(before.length, after.length);
  let from = 0;
  while (from < shorter && before.charCodeAt(from) === after.charCodeAt(from)) from++;
  let tail = 0;
  while (tail < shorter - from && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++;
  return { from, oldEnd: before.length - tail, newEnd: after.length - tail };
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
  private readonly edit: Edit | null;
  private readonly delta: number;
  private readonly moved = new Set<TextRange>();
  private readonly direct = new Map<string, Dependency[]>();

  constructor(
    before: string | null,
    private readonly text: string,
    private readonly symbols: Symbols,
    private readonly previous: ReadonlyMap<string, Entry<ItemFacts>>,
    /** Names defined now and not in the previous check: an unchanged text that mentions one may now read it. */
    private readonly newNames: readonly string[],
  ) {
    this.edit = before === null ? null : editBetween(before, text);
    this.delta = this.edit ? this.edit.newEnd - this.edit.oldEnd : 0;
  }

  /** The previous check's facts of `key` (`model:Net`) at `range`, moved to this text; null when it must be checked again. */
  reuse<F extends ItemFacts>(key: string, range: TextRange): F | null {
    const entry = this.previous.get(key);
    if (entry === undefined || this.edit === null || !this.sameAs(range, entry)) return null;
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
    if (this.delta !== 0) this.move(entry.facts);
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
    const item = kind === 'model' ? this.symbols.models.get(name) : kind === 'fn' ? this.symbols.fns.get(name) : this.symbols.consts.get(name);
    return item?.range ?? null;
  }

  private trainsOf(model: string): TrainItem[] {
    return this.symbols.trains.filter((t) => t.model.name === model);
  }

  /** Keeps a freshly checked item's facts for the next check. */
  keep(key: string, range: TextRange, facts: ItemFacts, dependencies = this.closure(key, range)): void {
    this.kept.set(key, { start: range.start, end: range.end, dependencies, facts });
  }

  /** Where a range of this text was in the previous one; null inside the edited span. */
  private before(range: { start: number; end: number }): { start: number; end: number } | null {
    const edit = this.edit!;
    if (range.end <= edit.from) return range;
    if (range.start >= edit.newEnd) return { start: range.start - this.delta, end: range.end - this.delta };
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
      const { consts, models, fns } = this.symbols;
      const item = models.get(name) ?? fns.get(name) ?? consts.get(name);
      if (item) found.push({ key: `${item.kind}:${name}`, start: item.range.start, end: item.range.end });
    }
    this.direct.set(key, found);
    return found;
  }

  /** Moves every offset of an item's facts past the edit; each shared range once. */
  private move(facts: ItemFacts): void {
    const range = (r: TextRange) => {
      if (this.moved.has(r)) return;
      this.moved.add(r);
      if (r.start >= this.edit!.oldEnd) {
        r.start += this.delta;
        r.end += this.delta;
      }
    };
    const diagnostic = (d: Diagnostic) => {
      range(d.range);
      for (const r of d.related) range(r.range);
      for (const fix of d.fixes) for (const e of fix.edits) range(e.range);
    };
    facts.diagnostics.forEach(diagnostic);
    for (const e of facts.instanceErrors) diagnostic(e.diagnostic);
    for (const c of facts.calls) {
      range(c.range);
      range(c.calleeRange);
    }
    for (const b of facts.bindings) {
      range(b.range);
      if (b.hintOffset >= this.edit!.oldEnd) b.hintOffset += this.delta;
    }
    for (const l of facts.layers) {
      range(l.range);
      l.callRanges.forEach(range);
    }
    range(facts.summary.range);
    range(facts.summary.nameRange);
    for (const g of facts.graphs) {
      for (const v of g.values) range(v.range);
      for (const n of g.nodes) range(n.range);
      for (const p of g.params) range(p.param.range);
      for (const s of g.checkpoints ?? []) range(s.range);
      for (const s of g.instanceCalls ?? []) range(s.range);
    }
  }
}
