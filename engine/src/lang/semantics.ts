// The editor's semantic model of a file: every name occurrence resolved as the checker
// resolves it — to a symbol (a const, model, fn, hyper-parameter, input, dim, binding, layer,
// param or `grad`'s g) with its definitions, or to a built-in of the registry or the train
// catalogue, a keyword argument or a train key — plus the parser's tokens and comments.
// Resolution runs on first use: publishing diagnostics needs none of it.

import type { TextRange } from './api.js';
import { builtinFunction, layerDef } from '../ops/registry.js';
import { declarationCall, indexBounds, type Symbols } from './binder.js';
import { PARAM_INITS } from './instances.js';
import type { Token, TokenSpans } from './scanner.js';
import { unpackNames, type Arg, type Block, type Expr, type FnItem, type Ident, type Item, type ModelItem, type ParamSyntax, type ShapeSyntax, type SourceFile, type Stmt, type TrainItem } from './syntax.js';
import { dataSetDef, optimizerDef, TRAIN_LOSSES, trainKeyDef } from './trainCatalogue.js';

export type SymbolKind = 'const' | 'model' | 'fn' | 'hyperParam' | 'input' | 'dim' | 'binding' | 'layer' | 'param' | 'gradParam';

export type SymbolId = number;

export interface SemanticSymbol {
  id: SymbolId;
  name: string;
  /** What its first definition made it (an input rebound in the body stays an input). */
  kind: SymbolKind;
  /** The model or fn whose local it is; null for a top-level const, model or fn. */
  owner: string | null;
  /** Its definitions in source order: a rebound name has one per binding. */
  definitions: TextRange[];
}

/** What a built-in name denotes: an op's function or loss, a layer, `param`, an init, a data set, an optimizer. */
export type BuiltinKind = 'function' | 'loss' | 'layer' | 'param' | 'init' | 'dataset' | 'optimizer';

export type Occurrence =
  | { role: 'definition' | 'reference'; name: string; range: TextRange; symbol: SymbolId; definition: TextRange; item: number }
  | { role: 'builtin'; name: string; range: TextRange; builtin: BuiltinKind; item: number }
  | { role: 'keywordArg'; name: string; range: TextRange; callee: string | null; item: number }
  | { role: 'trainKey'; name: string; range: TextRange; item: number }
  /** A name the checker does not know (NN2001 there). */
  | { role: 'unresolved'; name: string; range: TextRange; item: number };

export interface SemanticItem {
  kind: 'const' | 'model' | 'fn' | 'train';
  /** For `train`: the model it trains. */
  name: string;
  nameRange: TextRange;
  range: TextRange;
  /** The item's own symbol (none for `train`). */
  symbol: SymbolId | null;
}

/** A scope's names: symbol ids by name, over a parent scope. */
class Scope {
  private readonly own = new Map<string, SymbolId>();

  constructor(readonly parent: Scope | null) {}

  get(name: string): SymbolId | undefined {
    return this.own.get(name) ?? this.parent?.get(name);
  }

  set(name: string, id: SymbolId): void {
    this.own.set(name, id);
  }
}

interface Resolved {
  items: SemanticItem[];
  symbols: SemanticSymbol[];
  occurrences: Occurrence[];
}

export class SemanticModel {
  private resolved: Resolved | null = null;
  private tokenList: Token[] | null = null;

  constructor(
    readonly text: string,
    /** The syntax tree the checker checked (the formatter lays it out). */
    readonly tree: SourceFile,
    private readonly spans: TokenSpans | null,
    private readonly binder: Symbols,
  ) {}

  private get model(): Resolved {
    return (this.resolved ??= new Resolver(this.tree, this.binder).run());
  }

  /** Every token of the text as the parser read it, comments included, without statement ends and `eof`. */
  get tokens(): readonly Token[] {
    return (this.tokenList ??= this.spans?.tokens() ?? []);
  }

  get items(): readonly SemanticItem[] {
    return this.model.items;
  }

  get symbols(): readonly SemanticSymbol[] {
    return this.model.symbols;
  }

  /** Every name occurrence, in source order. */
  get occurrences(): readonly Occurrence[] {
    return this.model.occurrences;
  }

  symbol(id: SymbolId): SemanticSymbol {
    return this.model.symbols[id];
  }

  /** The occurrence whose name contains the offset (its end included, for a cursor after it). */
  occurrenceAt(offset: number): Occurrence | null {
    const list = this.model.occurrences;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].range.start <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && offset <= list[found].range.end ? list[found] : null;
  }

  /** Every definition and reference of a symbol, in source order. */
  occurrencesOf(id: SymbolId): Occurrence[] {
    return this.model.occurrences.filter((o) => (o.role === 'definition' || o.role === 'reference') && o.symbol === id);
  }

  /** The innermost item containing the offset (its end included). */
  itemAt(offset: number): SemanticItem | null {
    return this.model.items.find((it) => it.range.start <= offset && offset <= it.range.end) ?? null;
  }

  /** The top-level const, model or fn of this name. */
  topLevel(name: string): SemanticSymbol | undefined {
    return this.model.symbols.find((s) => s.owner === null && s.name === name);
  }

  /** The locals of a model or fn (inputs, dims, hyper-parameters, bindings, layers, params, g). */
  localsOf(owner: string): SemanticSymbol[] {
    return this.model.symbols.filter((s) => s.owner === owner);
  }
}

/** A model of no text, for a check that could not run. */
export function emptySemantics(text: string): SemanticModel {
  const symbols: Symbols = { consts: new Map(), constValues: new Map(), models: new Map(), fns: new Map(), trains: [], recursiveModels: new Set(), diagnostics: [] };
  return new SemanticModel(text, { kind: 'file', items: [], range: { start: 0, end: text.length } }, null, symbols);
}

/** Walks the tree once, with the checker's scoping rules. */
class Resolver {
  private readonly out: Resolved = { items: [], symbols: [], occurrences: [] };
  private readonly globals = new Scope(null);
  /** Per symbol, per definition: the offset from which it is visible (a binding: after its statement). */
  private readonly visibleFrom: number[][] = [];
  private item = -1;

  constructor(
    private readonly tree: SourceFile,
    private readonly binder: Symbols,
  ) {}

  run(): Resolved {
    // Top-level names first: a body may use a model or fn defined below it.
    for (const item of this.tree.items) {
      if (item.kind === 'error' || item.kind === 'import') continue;
      if (item.kind === 'train') {
        this.out.items.push({ kind: 'train', name: item.model.name, nameRange: item.model.range, range: item.range, symbol: null });
        continue;
      }
      const existing = this.globals.get(item.name.name);
      const id = existing ?? this.define(item.kind, item.name.name, null, item.name.range);
      if (existing !== undefined) this.addDefinition(id, item.name.range, item.name.range.start);
      this.globals.set(item.name.name, id);
      this.out.items.push({ kind: item.kind, name: item.name.name, nameRange: item.name.range, range: item.range, symbol: id });
    }
    // Imported definitions lie past the file's end, in the combined text the checker read.
    for (const kind of ['const', 'model', 'fn'] as const) {
      const table = kind === 'const' ? this.binder.consts : kind === 'model' ? this.binder.models : this.binder.fns;
      for (const [name, item] of table) if (item.range.start > this.tree.range.end && this.globals.get(name) === undefined) this.globals.set(name, this.define(kind, name, null, item.name.range));
    }
    let index = 0;
    for (const item of this.tree.items) {
      if (item.kind === 'error' || item.kind === 'import') continue;
      this.item = index++;
      this.resolveItem(item);
    }
    this.out.occurrences.sort((a, b) => a.range.start - b.range.start);
    return this.out;
  }

  private define(kind: SymbolKind, name: string, owner: string | null, range: TextRange, visibleFrom = range.start): SymbolId {
    const id = this.out.symbols.length;
    this.out.symbols.push({ id, name, kind, owner, definitions: [range] });
    this.visibleFrom.push([visibleFrom]);
    return id;
  }

  private addDefinition(id: SymbolId, range: TextRange, visibleFrom: number): void {
    this.out.symbols[id].definitions.push(range);
    this.visibleFrom[id].push(visibleFrom);
  }

  /** Whether some definition of the symbol is visible at `at` (definitions become visible in source order). */
  private visibleAt(id: SymbolId, at: number): boolean {
    return this.visibleFrom[id][0] <= at;
  }

  /** The latest definition visible at `at`, by binary search; the first one when none is. */
  private definitionSeenAt(id: SymbolId, at: number): TextRange {
    const from = this.visibleFrom[id];
    let lo = 0;
    let hi = from.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (from[mid] <= at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return this.out.symbols[id].definitions[found];
  }

  private occur(occurrence: Occurrence): void {
    this.out.occurrences.push(occurrence);
  }

  private definitionAt(id: SymbolId, range: TextRange): void {
    this.occur({ role: 'definition', name: this.out.symbols[id].name, range, symbol: id, definition: range, item: this.item });
  }

  private resolveItem(item: Exclude<Item, { kind: 'error' | 'import' }>): void {
    if (item.kind === 'train') return this.resolveTrain(item);
    const id = this.globals.get(item.name.name)!;
    this.definitionAt(id, item.name.range);
    if (item.kind === 'const') return this.expr(item.value, this.globals, null);
    const scope = new Scope(this.globals);
    if (item.kind === 'model') for (const hp of item.hyperParams) this.defineLocal(scope, 'hyperParam', hp.name, item.name.name, hp.range);
    this.signature(item, scope);
    if (item.kind === 'model') return this.body(item.body, scope, item.name.name);
    this.body(item.body, scope, item.name.name);
    this.gradBlock(item, scope);
  }

  private defineLocal(scope: Scope, kind: SymbolKind, name: string, owner: string, range: TextRange, visibleFrom = range.start): SymbolId {
    const id = this.define(kind, name, owner, range, visibleFrom);
    scope.set(name, id);
    this.definitionAt(id, range);
    return id;
  }

  /** Inputs and their shapes: a name no scope knows is a symbolic dim, defined where it first appears. */
  private signature(item: ModelItem | FnItem, scope: Scope): void {
    const owner = item.name.name;
    const shapes: ShapeSyntax[] = [];
    for (const input of item.inputs) if (input.shape) shapes.push(input.shape);
    if (item.output) shapes.push(item.output);
    for (const shape of shapes) {
      for (const dim of shape.dims) {
        if (dim.kind === 'variadic') this.dimName(scope, dim.name.name, owner, dim.name.range);
        else this.dimExpr(dim.expr, scope, owner);
      }
    }
    for (const input of item.inputs) this.input(input, scope, owner);
  }

  private input(input: ParamSyntax, scope: Scope, owner: string): void {
    this.defineLocal(scope, 'input', input.name.name, owner, input.name.range);
  }

  private dimName(scope: Scope, name: string, owner: string, range: TextRange): void {
    const known = scope.get(name);
    if (known === undefined) this.defineLocal(scope, 'dim', name, owner, range);
    else this.reference(known, range, null);
  }

  private dimExpr(expr: Expr, scope: Scope, owner: string): void {
    if (expr.kind === 'name') return this.dimName(scope, expr.name, owner, expr.range);
    if (expr.kind === 'binary') {
      this.dimExpr(expr.left, scope, owner);
      this.dimExpr(expr.right, scope, owner);
    } else if (expr.kind === 'unary') this.dimExpr(expr.operand, scope, owner);
    else if (expr.kind === 'paren') this.dimExpr(expr.inner, scope, owner);
  }

  /** A reference to a symbol; a local's definition is the latest one before `at` (the first when none is). */
  private reference(id: SymbolId, range: TextRange, visibleAt: number | null): void {
    const symbol = this.out.symbols[id];
    const definition = visibleAt === null ? symbol.definitions[0] : this.definitionSeenAt(id, visibleAt);
    this.occur({ role: 'reference', name: symbol.name, range, symbol: id, definition, item: this.item });
  }

  private body(block: Block, parent: Scope, owner: string): void {
    const scope = new Scope(parent);
    // Layer and param declarations exist before the body runs (the checker creates them first).
    for (const stmt of block.stmts) {
      if (stmt.kind === 'assign' && declarationCall(this.binder, stmt)) {
        const call = stmt.value as Expr & { kind: 'call' };
        const kind = (call.callee as { name: string }).name === 'param' ? 'param' : 'layer';
        const id = this.define(kind, stmt.target.name, owner, stmt.target.range, block.range.start);
        scope.set(stmt.target.name, id);
      }
    }
    for (const stmt of block.stmts) this.statement(stmt, scope, owner);
  }

  private statement(stmt: Stmt, scope: Scope, owner: string): void {
    if (stmt.kind === 'unpack') {
      this.expr(stmt.value, scope, stmt.range.start);
      for (const target of unpackNames(stmt.targets)) this.bind(target, stmt, scope, owner);
    } else if (stmt.kind === 'assign') {
      this.expr(stmt.value, scope, stmt.range.start);
      this.bind(stmt.target, stmt, scope, owner);
    } else if (stmt.kind === 'return') {
      for (const v of stmt.values) this.expr(v, scope, stmt.range.start);
    } else if (stmt.kind === 'expr') {
      this.expr(stmt.expr, scope, stmt.range.start);
    }
  }

  /** A name a statement binds: a declaration's first definition, a new local, or a local's rebinding. */
  private bind(target: Ident, stmt: Stmt, scope: Scope, owner: string): void {
    const declared = scope.get(target.name);
    // A declaration is its symbol's first definition, made before the body ran.
    if (declared !== undefined && this.out.symbols[declared].definitions[0] === target.range) {
      this.definitionAt(declared, target.range);
      return;
    }
    // A binding is visible after its statement; rebinding a local adds a definition.
    const local = declared !== undefined && this.out.symbols[declared].owner === owner ? declared : undefined;
    if (local === undefined) {
      this.defineLocal(scope, 'binding', target.name, owner, target.range, stmt.range.end);
    } else {
      this.addDefinition(local, target.range, stmt.range.end);
      this.definitionAt(local, target.range);
    }
  }

  private gradBlock(fn: FnItem, signatureScope: Scope): void {
    if (!fn.grad) return;
    const scope = new Scope(signatureScope);
    this.defineLocal(scope, 'gradParam', fn.grad.upstream.name, fn.name.name, fn.grad.upstream.range);
    this.body(fn.grad.body, scope, fn.name.name);
  }

  /** Names in an expression; `at` is where a local's visibility is judged (null: the first definition). */
  private expr(expr: Expr, scope: Scope, at: number | null): void {
    switch (expr.kind) {
      case 'name':
        return this.name(expr.name, expr.range, scope, at);
      case 'binary':
        this.expr(expr.left, scope, at);
        return this.expr(expr.right, scope, at);
      case 'unary':
        return this.expr(expr.operand, scope, at);
      case 'paren':
        return this.expr(expr.inner, scope, at);
      case 'list':
      case 'tuple':
        for (const item of expr.items) this.expr(item, scope, at);
        return;
      case 'pipe':
        this.expr(expr.left, scope, at);
        return this.expr(expr.stage, scope, at);
      case 'subscript':
        this.expr(expr.target, scope, at);
        for (const item of expr.items) for (const bound of indexBounds(item)) this.expr(bound, scope, at);
        return;
      case 'call':
        return this.call(expr, scope, at);
      default:
        return;
    }
  }

  private name(name: string, range: TextRange, scope: Scope, at: number | null): void {
    const id = scope.get(name);
    if (id !== undefined) {
      const symbol = this.out.symbols[id];
      // A local bound only later is not visible yet; a top-level name of that name is.
      const visible = at === null || symbol.owner === null || this.visibleAt(id, at);
      const global = this.globals.get(name);
      return this.reference(!visible && global !== undefined ? global : id, range, at);
    }
    const builtin = builtinKind(name);
    if (builtin) this.occur({ role: 'builtin', name, range, builtin, item: this.item });
    else this.occur({ role: 'unresolved', name, range, item: this.item });
  }

  private call(call: Expr & { kind: 'call' }, scope: Scope, at: number | null): void {
    this.expr(call.callee, scope, at);
    const callee = call.callee.kind === 'name' ? call.callee.name : null;
    const isParam = callee === 'param' && scope.get('param') === undefined;
    call.args.forEach((arg, k) => {
      if (arg.name) this.occur({ role: 'keywordArg', name: arg.name.name, range: arg.name.range, callee, item: this.item });
      // `param`'s init names an init, not a value: `zeros`, `normal(0.02)`.
      if (isParam && (arg.name?.name === 'init' || (arg.name === null && k === 1))) this.init(arg);
      else this.expr(arg.value, scope, at);
    });
  }

  private init(arg: Arg): void {
    const value = arg.value;
    const name = value.kind === 'name' ? value : value.kind === 'call' && value.callee.kind === 'name' ? value.callee : null;
    if (name && name.kind === 'name') {
      const known = Object.prototype.hasOwnProperty.call(PARAM_INITS, name.name);
      this.occur(known ? { role: 'builtin', name: name.name, range: name.range, builtin: 'init', item: this.item } : { role: 'unresolved', name: name.name, range: name.range, item: this.item });
    }
    if (value.kind === 'call') for (const a of value.args) this.expr(a.value, this.globals, null);
  }

  private resolveTrain(item: TrainItem): void {
    const model = this.globals.get(item.model.name);
    if (model !== undefined && this.out.symbols[model].kind === 'model') this.reference(model, item.model.range, null);
    else this.occur({ role: 'unresolved', name: item.model.name, range: item.model.range, item: this.item });
    for (const entry of item.entries) {
      if (trainKeyDef(entry.key.name)) this.occur({ role: 'trainKey', name: entry.key.name, range: entry.key.range, item: this.item });
      else this.occur({ role: 'unresolved', name: entry.key.name, range: entry.key.range, item: this.item });
      this.trainValue(entry.key.name, entry.value);
    }
  }

  /** A train value: a data set or optimizer call, a loss, or constants in a number. */
  private trainValue(key: string, value: Expr): void {
    const callee = value.kind === 'call' && value.callee.kind === 'name' ? value.callee : value.kind === 'name' ? value : null;
    const kind: BuiltinKind | null = key === 'data' ? 'dataset' : key === 'optimizer' ? 'optimizer' : key === 'loss' ? 'loss' : null;
    if (kind && callee && callee.kind === 'name') {
      const known = kind === 'dataset' ? dataSetDef(callee.name) : kind === 'optimizer' ? optimizerDef(callee.name) : (TRAIN_LOSSES as readonly string[]).includes(callee.name);
      this.occur(known ? { role: 'builtin', name: callee.name, range: callee.range, builtin: kind, item: this.item } : { role: 'unresolved', name: callee.name, range: callee.range, item: this.item });
      if (value.kind === 'call') {
        for (const arg of value.args) {
          if (arg.name) this.occur({ role: 'keywordArg', name: arg.name.name, range: arg.name.range, callee: callee.name, item: this.item });
          this.constants(arg.value);
        }
      }
      return;
    }
    this.constants(value);
  }

  /** Names in a train value other than a data set, optimizer or loss: the file's constants (`validate = test` names a split). */
  private constants(expr: Expr): void {
    if (expr.kind === 'name') {
      const id = this.globals.get(expr.name);
      if (id !== undefined) this.reference(id, expr.range, null);
      return;
    }
    if (expr.kind === 'binary') {
      this.constants(expr.left);
      this.constants(expr.right);
    } else if (expr.kind === 'unary') this.constants(expr.operand);
    else if (expr.kind === 'paren') this.constants(expr.inner);
  }
}

function builtinKind(name: string): BuiltinKind | null {
  const op = builtinFunction(name);
  if (op) return op.surface === 'loss' ? 'loss' : 'function';
  if (layerDef(name)) return 'layer';
  if (name === 'param') return 'param';
  return null;
}
