// The binder: the file's top-level names (constants, models, fns, train blocks), constant
// values, models that use themselves, and the state_dict names of anonymous layers.

import type { Diagnostic } from './api.js';
import { layerDef } from '../ops/registry.js';
import { makeDiagnostic } from './diagnostics.js';
import { didYouMean } from './fixes.js';
import type { ConstItem, Expr, FnItem, IndexItem, ModelItem, SourceFile, Stmt, TrainItem } from './syntax.js';

export interface Symbols {
  consts: Map<string, ConstItem>;
  /** Constant values; null when the constant's expression is broken (already reported). */
  constValues: Map<string, number | null>;
  models: Map<string, ModelItem>;
  fns: Map<string, FnItem>;
  trains: TrainItem[];
  /** Models that use themselves, directly or through others (they are not instantiated). */
  recursiveModels: Set<string>;
  diagnostics: Diagnostic[];
}

export function bind(tree: SourceFile, lineOf: (offset: number) => number): Symbols {
  const symbols: Symbols = {
    consts: new Map(),
    constValues: new Map(),
    models: new Map(),
    fns: new Map(),
    trains: [],
    recursiveModels: new Set(),
    diagnostics: [],
  };
  const firstDefinition = new Map<string, number>();
  const firstTrain = new Map<string, number>();
  for (const item of tree.items) {
    if (item.kind === 'error' || item.kind === 'import') continue;
    if (item.kind === 'train') {
      // One `train` block per model: a second one would be silently ignored by every run.
      const previous = firstTrain.get(item.model.name);
      if (previous !== undefined) symbols.diagnostics.push(makeDiagnostic('NN2002', item.model.range, [`train ${item.model.name}`, lineOf(previous) + 1]));
      else {
        firstTrain.set(item.model.name, item.range.start);
        symbols.trains.push(item);
      }
      continue;
    }
    const name = item.name.name;
    const previous = firstDefinition.get(name);
    if (previous !== undefined) {
      symbols.diagnostics.push(makeDiagnostic('NN2002', item.name.range, [name, lineOf(previous) + 1]));
      continue;
    }
    firstDefinition.set(name, item.name.range.start);
    if (item.kind === 'const') symbols.consts.set(name, item);
    else if (item.kind === 'model') symbols.models.set(name, item);
    else symbols.fns.set(name, item);
  }
  evaluateConsts(symbols);
  findRecursiveModels(symbols);
  return symbols;
}

/** What a constant's value is when it is not a number expression, in the NN2003 message. */
const EXPRESSION_NOUNS: Record<Exclude<Expr['kind'], 'number' | 'paren' | 'unary' | 'name' | 'binary' | 'error'>, string> = {
  string: 'a string',
  bool: 'a boolean',
  call: 'a call',
  pipe: 'a pipe',
  list: 'a list',
  tuple: 'a tuple',
  subscript: 'a subscript',
};

function evaluateConsts(symbols: Symbols): void {
  const evaluating = new Set<string>();
  const valueOf = (name: string): number | null => {
    if (symbols.constValues.has(name)) return symbols.constValues.get(name)!;
    const item = symbols.consts.get(name)!;
    evaluating.add(name);
    const value = evaluate(item.value, item);
    evaluating.delete(name);
    symbols.constValues.set(name, value);
    return value;
  };
  const evaluate = (expr: Expr, item: ConstItem): number | null => {
    switch (expr.kind) {
      case 'number':
        return expr.value;
      case 'paren':
        return evaluate(expr.inner, item);
      case 'unary': {
        const v = evaluate(expr.operand, item);
        return v === null ? null : -v;
      }
      case 'name':
        if (symbols.consts.has(expr.name) && !evaluating.has(expr.name)) return valueOf(expr.name);
        symbols.diagnostics.push(makeDiagnostic('NN2001', expr.range, [expr.name], didYouMean(expr.range, expr.name, symbols.consts.keys())));
        return null;
      case 'binary': {
        const a = evaluate(expr.left, item);
        const b = evaluate(expr.right, item);
        if (a === null || b === null) return null;
        return arithmetic(expr.op, a, b);
      }
      case 'error':
        return null;
      default:
        symbols.diagnostics.push(makeDiagnostic('NN2003/constant', expr.range, [item.name.name, EXPRESSION_NOUNS[expr.kind]]));
        return null;
    }
  };
  for (const name of symbols.consts.keys()) valueOf(name);
}

/** Number arithmetic of the language: `/` of two integers is floor division (as between dims), else real division. */
export function arithmetic(op: string, a: number, b: number): number | null {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) return null;
      return Number.isInteger(a) && Number.isInteger(b) ? Math.floor(a / b) : a / b;
    case '**':
      return a ** b;
    default:
      return null; // `@` has no meaning on numbers
  }
}

type Visit = (expr: Expr, parent: Expr | Stmt) => void;

/** Calls `visit` on every expression of a statement list, in source order. */
export function walkStatements(stmts: readonly Stmt[], visit: Visit): void {
  for (const stmt of stmts) {
    if (stmt.kind === 'assign' || stmt.kind === 'unpack') walkExpr(stmt.value, stmt, visit);
    else if (stmt.kind === 'return') for (const v of stmt.values) walkExpr(v, stmt, visit);
    else if (stmt.kind === 'expr') walkExpr(stmt.expr, stmt, visit);
  }
}

/** Whether an expression holds a syntax error node: a half-typed value (`loss =`, `Adam(lr =`). */
export function isHalfTyped(expr: Expr): boolean {
  let found = false;
  walkExpr(expr, expr, (e) => {
    if (e.kind === 'error') found = true;
  });
  return found;
}

function walkExpr(expr: Expr, parent: Expr | Stmt, visit: Visit): void {
  visit(expr, parent);
  switch (expr.kind) {
    case 'binary':
      walkExpr(expr.left, expr, visit);
      walkExpr(expr.right, expr, visit);
      break;
    case 'unary':
      walkExpr(expr.operand, expr, visit);
      break;
    case 'call':
      walkExpr(expr.callee, expr, visit);
      for (const arg of expr.args) walkExpr(arg.value, expr, visit);
      break;
    case 'pipe':
      walkExpr(expr.left, expr, visit);
      walkExpr(expr.stage, expr, visit);
      break;
    case 'list':
    case 'tuple':
      for (const item of expr.items) walkExpr(item, expr, visit);
      break;
    case 'paren':
      walkExpr(expr.inner, expr, visit);
      break;
    case 'subscript':
      walkExpr(expr.target, expr, visit);
      for (const item of expr.items) for (const bound of indexBounds(item)) walkExpr(bound, expr, visit);
      break;
    default:
      break;
  }
}

/** The expressions of a subscript's item: its index, or its slice's start, end and step. */
export function indexBounds(item: IndexItem): Expr[] {
  if (item.kind === 'index') return [item.expr];
  if (item.kind === 'ellipsis') return [];
  return [item.start, item.stop, item.step].filter((e): e is Expr => e !== null);
}

/** Whether `name` constructs a layer: a built-in layer or a model (used as a block). */
export function isLayerCtor(symbols: Symbols, name: string): boolean {
  return layerDef(name) !== undefined || symbols.models.has(name);
}

/** A layer declaration statement `NAME = Ctor(args)` or `NAME = param(...)`: its constructor call. */
export function declarationCall(symbols: Symbols, stmt: Stmt): (Expr & { kind: 'call' }) | null {
  if (stmt.kind !== 'assign' || stmt.value.kind !== 'call' || stmt.value.callee.kind !== 'name') return null;
  const ctor = stmt.value.callee.name;
  return isLayerCtor(symbols, ctor) || ctor === 'param' ? stmt.value : null;
}

/**
 * Anonymous layers of a body (`Linear(2, 16)(x)`, `x |> Conv2d(...)`): each constructor
 * call that is not a declaration, named after its constructor in lower case and its index
 * among the body's anonymous layers of that kind, counted from 0 in source order.
 */
export function anonymousLayers(symbols: Symbols, stmts: readonly Stmt[]): Map<Expr, string> {
  // A block's body is instantiated once per use: name its anonymous layers once.
  let cached = anonymousCache.get(symbols);
  if (cached === undefined) {
    cached = new WeakMap();
    anonymousCache.set(symbols, cached);
  }
  const known = cached.get(stmts);
  if (known) return known;
  const names = findAnonymousLayers(symbols, stmts);
  cached.set(stmts, names);
  return names;
}

const anonymousCache = new WeakMap<Symbols, WeakMap<readonly Stmt[], Map<Expr, string>>>();

function findAnonymousLayers(symbols: Symbols, stmts: readonly Stmt[]): Map<Expr, string> {
  const declarations = new Set<Expr>();
  for (const stmt of stmts) {
    const call = declarationCall(symbols, stmt);
    if (call) declarations.add(call);
  }
  const calls: (Expr & { kind: 'call' })[] = [];
  walkStatements(stmts, (expr) => {
    if (expr.kind === 'call' && expr.callee.kind === 'name' && isLayerCtor(symbols, expr.callee.name) && !declarations.has(expr)) calls.push(expr);
  });
  calls.sort((a, b) => a.range.start - b.range.start);
  const counts = new Map<string, number>();
  const names = new Map<Expr, string>();
  for (const call of calls) {
    const kind = (call.callee as { name: string }).name.toLowerCase();
    const index = counts.get(kind) ?? 0;
    counts.set(kind, index + 1);
    names.set(call, `${kind}_${index}`);
  }
  return names;
}

function findRecursiveModels(symbols: Symbols): void {
  const uses = new Map<string, { name: string; range: Expr['range'] }[]>();
  for (const [name, model] of symbols.models) {
    const used: { name: string; range: Expr['range'] }[] = [];
    walkStatements(model.body.stmts, (expr) => {
      if (expr.kind === 'call' && expr.callee.kind === 'name' && symbols.models.has(expr.callee.name)) {
        used.push({ name: expr.callee.name, range: expr.callee.range });
      }
    });
    uses.set(name, used);
  }
  // A model is recursive when it can reach itself; report each such use once, at the use.
  for (const [name] of symbols.models) {
    const path = reachesItself(name, uses);
    if (path === null) continue;
    symbols.recursiveModels.add(name);
    const firstUse = uses.get(name)!.find((u) => u.name === path[1])!;
    symbols.diagnostics.push(makeDiagnostic('NN2004', firstUse.range, [name, path.join(' → ')]));
  }
}

function reachesItself(start: string, uses: Map<string, { name: string }[]>): string[] | null {
  const seen = new Set<string>();
  const search = (name: string, path: string[]): string[] | null => {
    for (const use of uses.get(name) ?? []) {
      if (use.name === start) return [...path, start];
      if (seen.has(use.name)) continue;
      seen.add(use.name);
      const found = search(use.name, [...path, use.name]);
      if (found) return found;
    }
    return null;
  };
  return search(start, [start]);
}
