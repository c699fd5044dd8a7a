// The syntax tree the parser builds: plain data, every node with its source range.

import type { TextRange } from './api.js';

export interface Ident {
  kind: 'ident';
  name: string;
  range: TextRange;
}

/** A target of a tuple binding: a name, or a parenthesized group of names (`(h, c)` in `out, (h, c) = lstm(x)`). */
export type UnpackTarget = Ident | { kind: 'group'; names: Ident[]; range: TextRange };

/** The names a tuple binding binds, groups flattened. */
export function unpackNames(targets: readonly UnpackTarget[]): Ident[] {
  return targets.flatMap((t) => (t.kind === 'group' ? t.names : [t]));
}

export type Expr =
  | { kind: 'name'; name: string; range: TextRange }
  | { kind: 'number'; value: number; text: string; range: TextRange }
  | { kind: 'string'; value: string; range: TextRange }
  | { kind: 'bool'; value: boolean; range: TextRange }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; opRange: TextRange; range: TextRange }
  | { kind: 'unary'; op: UnaryOp; operand: Expr; range: TextRange }
  | { kind: 'call'; callee: Expr; args: Arg[]; range: TextRange }
  | { kind: 'pipe'; left: Expr; stage: Expr; range: TextRange }
  | { kind: 'list'; items: Expr[]; range: TextRange }
  /** `(0.9, 0.98)`: two or more items in parentheses (a one-item `(a,)` too), read wherever a list is. */
  | { kind: 'tuple'; items: Expr[]; range: TextRange }
  | { kind: 'paren'; inner: Expr; range: TextRange }
  | { kind: 'subscript'; target: Expr; items: IndexItem[]; range: TextRange }
  | { kind: 'error'; range: TextRange };

export type ComparisonOp = '<' | '>' | '<=' | '>=' | '==' | '!=';

export type BinaryOp = '+' | '-' | '*' | '/' | '**' | '@' | ComparisonOp;

export type UnaryOp = '-';

/** One item of a subscript `x[:, 1:T-1, ..., -1]`: an index (drops its axis), a slice, or `...`. */
export type IndexItem =
  | { kind: 'index'; expr: Expr; range: TextRange }
  | { kind: 'slice'; start: Expr | null; stop: Expr | null; step: Expr | null; range: TextRange }
  | { kind: 'ellipsis'; range: TextRange };

export interface Arg {
  name: Ident | null;
  value: Expr;
  range: TextRange;
}

/** A dim in a signature shape: an expression, or a variadic group `*S`. */
export type DimSyntax = { kind: 'dim'; expr: Expr; range: TextRange } | { kind: 'variadic'; name: Ident; range: TextRange };

export interface ShapeSyntax {
  isInt: boolean;
  dims: DimSyntax[];
  range: TextRange;
}

export interface ParamSyntax {
  name: Ident;
  shape: ShapeSyntax | null;
  range: TextRange;
}

export type Stmt =
  | { kind: 'assign'; target: Ident; value: Expr; range: TextRange }
  /** Tuple binding of an op's several results: `a, b = chunk(x, 2)`. */
  | { kind: 'unpack'; targets: UnpackTarget[]; value: Expr; range: TextRange }
  | { kind: 'return'; values: Expr[]; range: TextRange }
  | { kind: 'expr'; expr: Expr; range: TextRange }
  | { kind: 'error'; range: TextRange };

export interface Block {
  stmts: Stmt[];
  range: TextRange; // from `{` to `}`
}

export interface ConstItem {
  kind: 'const';
  name: Ident;
  value: Expr;
  range: TextRange;
}

export interface ModelItem {
  kind: 'model';
  name: Ident;
  hyperParams: Ident[];
  inputs: ParamSyntax[];
  output: ShapeSyntax | null;
  body: Block;
  range: TextRange;
}

export interface FnItem {
  kind: 'fn';
  name: Ident;
  inputs: ParamSyntax[];
  output: ShapeSyntax | null;
  body: Block;
  grad: { upstream: Ident; body: Block; range: TextRange } | null;
  range: TextRange;
}

export interface TrainEntry {
  key: Ident;
  value: Expr;
  range: TextRange;
}

export interface TrainItem {
  kind: 'train';
  model: Ident;
  entries: TrainEntry[];
  body: TextRange;
  range: TextRange;
}

/** `import "blocks.nn"`: another file's models, fns and constants, by a path relative to this file. */
export interface ImportItem {
  kind: 'import';
  path: { value: string; range: TextRange };
  range: TextRange;
}

export type Item = ConstItem | ModelItem | FnItem | TrainItem | ImportItem | { kind: 'error'; range: TextRange };

export interface SourceFile {
  kind: 'file';
  items: Item[];
  range: TextRange;
}
