// The parser: hand-written, error-tolerant recursive descent from tokens to the syntax tree.
// It never throws; a broken statement becomes an error node (or an assignment of an error
// expression, so its name stays defined) and parsing goes on with the next statement.

import type { Diagnostic } from './api.js';
import { makeDiagnostic } from './diagnostics.js';
import { ITEM_KEYWORDS, Lexer, RecordingLexer, type Token, type TokenSpans } from './scanner.js';
import type {
  Arg,
  Block,
  DimSyntax,
  Expr,
  FnItem,
  Ident,
  IndexItem,
  Item,
  ModelItem,
  ParamSyntax,
  ShapeSyntax,
  SourceFile,
  Stmt,
  TrainEntry,
  TrainItem,
  UnpackTarget,
} from './syntax.js';

/**
 * Deeper nesting than this (brackets, calls, signs) is reported instead of recursed into: no
 * stack overflow in the parser, which recurses once per level.
 */
export const MAX_NESTING = 500;

/**
 * A chain of operators (`x + x + ... + x`, a long pipe) is parsed in a loop, but it is a
 * left-deep tree that the later passes recurse into: the tree's depth (nesting plus the
 * operators chained) is bounded by this, well below where the checker's recursion would
 * overflow (about 2,500), and far above any model (1,000 terms in one sum is fine).
 */
export const MAX_TREE_DEPTH = 1200;

const ITEM_KEYWORD_SET: ReadonlySet<string> = new Set(ITEM_KEYWORDS);

export interface ParseResult {
  tree: SourceFile;
  errors: Diagnostic[];
  /** With `tokens: true`: every token's span in source order, comments included. */
  tokens?: TokenSpans;
}

export function parse(text: string, options: { tokens?: boolean } = {}): ParseResult {
  const recording = options.tokens ? new RecordingLexer(text) : null;
  const lexer = recording ?? new Lexer(text, false);
  const parser = new Parser(lexer);
  const tree = parser.parseFile(text.length);
  const lexErrors = lexer.errors.map((e) => makeDiagnostic(e.code, e.range, e.code === 'NN1002' ? [e.args[0] === '"' ? 'string literal' : `\`${e.args[0]}\``] : e.args));
  // A bracket never closed explains the syntax errors after it on its line (`fc(x]`): one mistake, one error.
  const unclosed = lexer.errors.filter((e) => e.code === 'NN1002');
  const explained = (e: Diagnostic) =>
    unclosed.some((u) => u.range.start <= e.range.start && (!text.slice(u.range.start, e.range.start).includes('\n') || (text[u.range.start] === '{' && e.message.startsWith('expected `}`'))));
  const parseErrors = unclosed.length === 0 ? parser.errors : parser.errors.filter((e) => !explained(e));
  // Lexical errors first, so that the stable sort keeps them before a parse error at the same offset.
  const errors = [...lexErrors, ...parseErrors].sort((a, b) => a.range.start - b.range.start);
  return recording ? { tree, errors, tokens: recording.spans } : { tree, errors };
}

/**
 * The top-level items of `text[start, end)` (a span of whole items), parsed on their own with
 * their token spans, for a re-parse of the items an edit touched; null unless they parse
 * without an error and end within the span (otherwise only a parse of the whole text says what they are).
 */
export function parseItemsBetween(text: string, start: number, end: number): { items: Item[]; tokens: TokenSpans } | null {
  const lexer = new RecordingLexer(text, start);
  const parser = new Parser(lexer);
  const items = parser.parseItemsBefore(end);
  if (lexer.errors.length > 0 || parser.errors.length > 0 || items.some((item) => item.kind === 'error' || item.range.end > end)) return null;
  return { items, tokens: lexer.spans };
}

function describe(token: Token): string {
  if (token.kind === 'eof') return 'end of file';
  if (token.kind === 'newline') return 'end of line';
  if (token.kind === 'string') return 'a string';
  return `\`${token.text}\``;
}

class Parser {
  /** The current token. */
  private current: Token;
  /** Tokens after the current one, read by `peek` and not consumed yet (lookahead is short). */
  private readonly ahead: Token[] = [];
  /** The end of the last consumed token. */
  private lastEnd = 0;
  private depth = 0;
  /** Operators chained above the current position (each one level of the tree, none of the parser's stack). */
  private chained = 0;
  /** Errors before this index belong to earlier statements; one error per statement is reported. */
  private statementMark = 0;
  readonly errors: Diagnostic[] = [];
  /**
   * The items of the lists being parsed (nested lists stack up above their parent's), each
   * list then copied out at its own size: an array grown by `push` keeps room for 17, and
   * the tree keeps its short lists (call arguments, dims) as long as the check's result lives.
   */
  private readonly listItems: unknown[] = [];
  private listTop = 0;

  constructor(private readonly lexer: Lexer) {
    this.current = lexer.next();
  }

  // -- token helpers -------------------------------------------------------------------

  private get token(): Token {
    return this.current;
  }

  private peek(offset = 1): Token {
    while (this.ahead.length < offset) {
      const last = this.ahead.length > 0 ? this.ahead[this.ahead.length - 1] : this.current;
      if (last.kind === 'eof') return last;
      this.ahead.push(this.lexer.next());
    }
    return offset === 0 ? this.current : this.ahead[offset - 1];
  }

  private advance(): Token {
    const token = this.current;
    if (token.kind !== 'eof') {
      this.lastEnd = token.end;
      this.current = this.ahead.length > 0 ? this.ahead.shift()! : this.lexer.next();
    }
    return token;
  }

  private is(text: string): boolean {
    const t = this.token;
    return (t.kind === 'punct' || t.kind === 'keyword') && t.text === text;
  }

  private accept(text: string): Token | null {
    return this.is(text) ? this.advance() : null;
  }

  private previousEnd(): number {
    return this.lastEnd;
  }

  private error(expected: string, at: Token = this.token): void {
    if (this.errors.length > this.statementMark) return;
    if (at.kind === 'eof' && this.lexer.errors.some((e) => e.code === 'NN1002')) return; // the scanner already said what is unclosed
    if (at.kind === 'error') {
      this.errors.push(makeDiagnostic('NN1001', { start: at.start, end: at.end }, [expected, `\`${at.text}\``]));
      return;
    }
    const range = at.kind === 'newline' || at.kind === 'eof' ? { start: at.start, end: at.start } : { start: at.start, end: at.end };
    this.errors.push(makeDiagnostic('NN1001', range, [expected, describe(at)]));
  }

  private expect(text: string): boolean {
    if (this.accept(text)) return true;
    this.error(`\`${text}\``);
    return false;
  }

  private ident(what: string): Ident | null {
    const t = this.token;
    if (t.kind === 'name') {
      this.advance();
      return { kind: 'ident', name: t.text, range: { start: t.start, end: t.end } };
    }
    this.error(what);
    return null;
  }

  private skipNewlines(): void {
    while (this.token.kind === 'newline' || this.is(';')) this.advance();
  }

  /**
   * Skips to the end of the current statement (a newline or `;` at depth 0, or before `}`),
   * and never past an item keyword: `model`, `fn`, `train` and `const` start the next item
   * wherever they appear (as rust-analyzer recovers at item keywords). A stray `)` or `]` is
   * skipped, not counted, so it cannot make the rest of the file one statement.
   */
  private skipStatement(): void {
    let depth = 0;
    for (;;) {
      const t = this.token;
      if (t.kind === 'eof' || this.atItemKeyword()) return;
      if (depth === 0 && (t.kind === 'newline' || (t.kind === 'punct' && (t.text === ';' || t.text === '}')))) return;
      if (t.kind === 'punct' && (t.text === '(' || t.text === '[' || t.text === '{')) depth++;
      if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}') && depth > 0) depth--;
      this.advance();
    }
  }

  private startList(): number {
    return this.listTop;
  }

  private addToList(item: unknown): void {
    this.listItems[this.listTop++] = item;
  }

  private endList<T>(start: number): T[] {
    const items = this.listItems.slice(start, this.listTop) as T[];
    this.listTop = start;
    return items;
  }

  // -- items ---------------------------------------------------------------------------

  parseFile(length: number): SourceFile {
    return { kind: 'file', items: this.parseItemsBefore(Infinity), range: { start: 0, end: length } };
  }

  /** The items that start before `end`. */
  parseItemsBefore(end: number): Item[] {
    const items: Item[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.token.kind === 'eof' || this.token.start >= end) break;
      this.statementMark = this.errors.length;
      const start = this.token.start;
      const item = this.parseItem();
      if (item) {
        items.push(item);
        if (this.errors.length > this.statementMark) this.skipStatement();
      } else {
        this.skipToItem();
        items.push({ kind: 'error', range: { start, end: this.previousEnd() } });
      }
    }
    return items;
  }

  /** Skips top-level text that is no item, up to the next item keyword. */
  private skipToItem(): void {
    this.advance();
    while (this.token.kind !== 'eof' && !this.atItemKeyword()) this.advance();
  }

  private parseItem(): Item | null {
    const t = this.token;
    if (t.kind === 'keyword') {
      if (t.text === 'import') return this.parseImport();
      if (t.text === 'const') return this.parseConst();
      if (t.text === 'model') return this.parseModel();
      if (t.text === 'fn') return this.parseFn();
      if (t.text === 'train') return this.parseTrain();
    }
    this.error('`model`, `fn`, `const`, `train` or `import`');
    return null;
  }

  private parseImport(): Item {
    const start = this.advance().start;
    const t = this.token;
    if (t.kind !== 'string') {
      this.error('a file path in quotes, `import "blocks.nn"`');
      this.skipStatement();
      return { kind: 'error', range: { start, end: this.previousEnd() } };
    }
    this.advance();
    return { kind: 'import', path: { value: t.value ?? '', range: { start: t.start, end: t.end } }, range: { start, end: t.end } };
  }

  private parseConst(): Item {
    const start = this.advance().start;
    const name = this.ident('a constant name');
    if (!name || !this.expect('=')) {
      this.skipStatement();
      return { kind: 'error', range: { start, end: this.previousEnd() } };
    }
    const value = this.parseExpr();
    return { kind: 'const', name, value, range: { start, end: this.previousEnd() } };
  }

  private parseModel(): ModelItem | null {
    const start = this.advance().start;
    const name = this.ident('a model name');
    if (!name) return null;
    const hyperParams: Ident[] = [];
    if (this.accept('[')) {
      while (!this.is(']') && this.token.kind !== 'eof') {
        const p = this.ident('a hyper-parameter name');
        if (!p) break;
        hyperParams.push(p);
        if (!this.accept(',')) break;
      }
      this.expect(']');
    }
    const inputs = this.parseParams();
    const output = this.accept('->') ? this.parseShape() : null;
    const body = this.parseBlock();
    return { kind: 'model', name, hyperParams, inputs, output, body, range: { start, end: this.previousEnd() } };
  }

  private parseFn(): FnItem | null {
    const start = this.advance().start;
    const name = this.ident('a function name');
    if (!name) return null;
    const inputs = this.parseParams();
    const output = this.accept('->') ? this.parseShape() : null;
    const body = this.parseBlock();
    let grad: FnItem['grad'] = null;
    // `grad` may follow the closing brace on the same line or on the next one.
    let lookahead = 0;
    while (this.peek(lookahead).kind === 'newline') lookahead++;
    const next = this.peek(lookahead);
    if (next.kind === 'keyword' && next.text === 'grad') {
      for (let k = 0; k < lookahead; k++) this.advance();
      const gradStart = this.advance().start;
      this.expect('(');
      const upstream = this.ident('the upstream gradient name') ?? { kind: 'ident', name: 'g', range: { start: gradStart, end: gradStart } };
      this.expect(')');
      const gradBody = this.parseBlock();
      grad = { upstream, body: gradBody, range: { start: gradStart, end: this.previousEnd() } };
    }
    return { kind: 'fn', name, inputs, output, body, grad, range: { start, end: this.previousEnd() } };
  }

  private parseTrain(): TrainItem | null {
    const start = this.advance().start;
    const model = this.ident('a model name');
    if (!model) return null;
    const bodyStart = this.token.start;
    const entries: TrainEntry[] = [];
    if (this.expect('{')) {
      for (;;) {
        this.skipNewlines();
        if (this.is('}') || this.token.kind === 'eof' || this.atItemKeyword()) break;
        this.statementMark = this.errors.length;
        const key = this.ident('a `train` key');
        if (key && this.expect('=')) {
          const value = this.parseExpr();
          entries.push({ key, value, range: { start: key.range.start, end: this.previousEnd() } });
        }
        this.endStatement();
      }
      this.expect('}');
    }
    return { kind: 'train', model, entries, body: { start: bodyStart, end: this.previousEnd() }, range: { start, end: this.previousEnd() } };
  }

  /** At `model`, `fn`, `train`, `const` or `import` (not a keyword argument spelled like one: `train = 2000`). */
  private atItemKeyword(): boolean {
    return this.token.kind === 'keyword' && ITEM_KEYWORD_SET.has(this.token.text) && !(this.peek().kind === 'punct' && this.peek().text === '=');
  }

  private parseParams(): ParamSyntax[] {
    if (!this.expect('(')) return [];
    const list = this.startList();
    while (!this.is(')') && this.token.kind !== 'eof') {
      const name = this.ident('an input name');
      if (!name) break;
      const shape = this.accept(':') ? this.parseShape() : null;
      this.addToList({ name, shape, range: { start: name.range.start, end: this.previousEnd() } } satisfies ParamSyntax);
      if (!this.accept(',')) break;
    }
    const params = this.endList<ParamSyntax>(list);
    if (!this.expect(')')) this.skipUntil(['{']);
    return params;
  }

  private skipUntil(texts: string[]): void {
    while (this.token.kind !== 'eof' && !texts.some((t) => this.is(t)) && !this.atItemKeyword()) this.advance();
  }

  private parseShape(): ShapeSyntax | null {
    const start = this.token.start;
    let isInt = false;
    if (this.token.kind === 'name' && this.token.text === 'int' && this.peek().text === '[') {
      this.advance();
      isInt = true;
    }
    if (!this.expect('[')) return null;
    const list = this.startList();
    while (!this.is(']') && this.token.kind !== 'eof') {
      const dimStart = this.token.start;
      if (this.accept('*')) {
        const name = this.ident('a variadic group name');
        if (!name) break;
        this.addToList({ kind: 'variadic', name, range: { start: dimStart, end: name.range.end } } satisfies DimSyntax);
      } else {
        const expr = this.parseExpr();
        this.addToList({ kind: 'dim', expr, range: expr.range } satisfies DimSyntax);
      }
      if (!this.accept(',')) break;
    }
    const dims = this.endList<DimSyntax>(list);
    this.expect(']');
    return { isInt, dims, range: { start, end: this.previousEnd() } };
  }

  // -- blocks and statements -------------------------------------------------------------

  private parseBlock(): Block {
    const start = this.token.start;
    const stmts: Stmt[] = [];
    if (!this.expect('{')) {
      this.skipUntil(['{']);
      if (!this.accept('{')) return { stmts, range: { start, end: this.previousEnd() } };
    }
    for (;;) {
      this.skipNewlines();
      if (this.is('}') || this.token.kind === 'eof') break;
      if (this.atItemKeyword()) {
        this.error('`}`');
        return { stmts, range: { start, end: this.previousEnd() } };
      }
      this.statementMark = this.errors.length;
      stmts.push(this.parseStatement());
    }
    this.expect('}');
    return { stmts, range: { start, end: this.previousEnd() } };
  }

  private parseStatement(): Stmt {
    const start = this.token.start;
    if (this.is('return')) {
      this.advance();
      const list = this.startList();
      this.addToList(this.parseExpr());
      while (this.accept(',')) this.addToList(this.parseExpr());
      const values = this.endList<Expr>(list);
      const broken = this.endStatement();
      // A broken value is still a `return` (of an unknown value): the body does not lack one.
      const range = { start, end: this.previousEnd() };
      return { kind: 'return', values: broken ? [{ kind: 'error', range: { start: values[0].range.start, end: range.end } }] : values, range };
    }
    const unpacked = this.unpackTargetShape();
    if (unpacked !== null) {
      const list = this.startList();
      for (const group of unpacked) {
        if (group === 0) this.addToList(this.ident('a name')!);
        else {
          const groupStart = this.token.start;
          this.advance(); // the `(`
          const names: Ident[] = [];
          for (let k = 0; k < group; k++) {
            names.push(this.ident('a name')!);
            this.advance(); // the `,` between names, then the `)`
          }
          this.addToList({ kind: 'group', names, range: { start: groupStart, end: this.previousEnd() } });
        }
        this.advance(); // the `,` between targets, then the `=`
      }
      const targets = this.endList<UnpackTarget>(list);
      const valueStart = this.token.start;
      let value = this.parseExpr();
      if (this.endStatement()) value = { kind: 'error', range: { start: valueStart, end: this.previousEnd() } };
      return { kind: 'unpack', targets, value, range: { start, end: this.previousEnd() } };
    }
    if (this.token.kind === 'name' && this.peek().kind === 'punct' && this.peek().text === '=') {
      const target = this.ident('a name')!;
      this.advance();
      const valueStart = this.token.start;
      let value = this.parseExpr();
      if (this.endStatement()) value = { kind: 'error', range: { start: valueStart, end: this.previousEnd() } };
      return { kind: 'assign', target, value, range: { start, end: this.previousEnd() } };
    }
    const expr = this.parseExpr();
    const broken = this.endStatement();
    return broken ? { kind: 'error', range: { start, end: this.previousEnd() } } : { kind: 'expr', expr, range: { start, end: this.previousEnd() } };
  }

  /**
   * At `a, b = ...` or `out, (h, c) = ...` (two or more targets, then `=`): each target, 0 for
   * a name and the count of names for a parenthesized group of two or more; else null.
   */
  private unpackTargetShape(): number[] | null {
    const shape: number[] = [];
    let offset = 0;
    for (;;) {
      const first = this.peek(offset);
      if (first.kind === 'punct' && first.text === '(') {
        let names = 0;
        for (offset++; ; offset += 2) {
          const name = this.peek(offset);
          const after = this.peek(offset + 1);
          if (name.kind !== 'name' || after.kind !== 'punct') return null;
          names++;
          if (after.text === ')') break;
          if (after.text !== ',') return null;
        }
        if (names < 2) return null;
        shape.push(names);
        offset += 2;
      } else if (first.kind === 'name') {
        shape.push(0);
        offset++;
      } else return null;
      const after = this.peek(offset);
      if (after.kind !== 'punct') return null;
      if (after.text === '=') return shape.length >= 2 ? shape : null;
      if (after.text !== ',') return null;
      offset++;
    }
  }

  /** Checks the statement ends here; on garbage, reports and skips it. True when the statement is broken. */
  private endStatement(): boolean {
    const t = this.token;
    const ended = t.kind === 'newline' || t.kind === 'eof' || (t.kind === 'punct' && (t.text === ';' || t.text === '}'));
    if (!ended) {
      this.error('end of statement');
      this.skipStatement();
    }
    return this.errors.length > this.statementMark;
  }

  // -- expressions ---------------------------------------------------------------------------

  parseExpr(): Expr {
    if (this.depth >= MAX_NESTING) return this.tooDeep();
    if (this.depth + this.chained >= MAX_TREE_DEPTH) return this.tooLong();
    this.depth++;
    try {
      let left = this.parseBinary(0);
      const chainedBefore = this.chained;
      while (this.is('|>')) {
        this.advance();
        this.chained++;
        const stage = this.depth + this.chained >= MAX_TREE_DEPTH ? this.tooLong() : this.parseBinary(0);
        left = { kind: 'pipe', left, stage, range: { start: left.range.start, end: stage.range.end } };
      }
      this.chained = chainedBefore;
      return left;
    } finally {
      this.depth--;
    }
  }

  /** Reports a chain of operators past MAX_TREE_DEPTH and skips the rest of the expression. */
  private tooLong(): Expr {
    return this.skipNested(`at most ${MAX_TREE_DEPTH} operators and levels in one expression (split it with bindings)`);
  }

  /** Reports nesting past MAX_NESTING and skips the rest of this nested expression without recursing. */
  private tooDeep(): Expr {
    return this.skipNested(`at most ${MAX_NESTING} nested levels`);
  }

  private skipNested(expected: string): Expr {
    const start = this.token.start;
    this.error(expected, this.token);
    let depth = 0;
    for (;;) {
      const t = this.token;
      if (t.kind === 'eof') break;
      if (t.kind === 'punct') {
        if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
        else if (t.text === ')' || t.text === ']' || t.text === '}') {
          if (depth === 0) break;
          depth--;
        } else if (depth === 0 && (t.text === ',' || t.text === ';')) break;
      }
      if (depth === 0 && t.kind === 'newline') break;
      this.advance();
    }
    return { kind: 'error', range: { start, end: this.previousEnd() } };
  }

  /** Binary operators by precedence, loosest first: comparisons (masks), then sums, then products. */
  private static readonly LEVELS: readonly (readonly string[])[] = [['<', '>', '<=', '>=', '==', '!='], ['+', '-'], ['*', '/', '@']];

  private parseBinary(level: number): Expr {
    if (level >= Parser.LEVELS.length) return this.parseUnary();
    let left = this.parseBinary(level + 1);
    const chainedBefore = this.chained;
    for (;;) {
      const t = this.token;
      if (t.kind !== 'punct' || !Parser.LEVELS[level].includes(t.text)) {
        this.chained = chainedBefore;
        return left;
      }
      this.advance();
      this.chained++;
      const right = this.depth + this.chained >= MAX_TREE_DEPTH ? this.tooLong() : this.parseBinary(level + 1);
      left = {
        kind: 'binary',
        op: t.text as '+',
        left,
        right,
        opRange: { start: t.start, end: t.end },
        range: { start: left.range.start, end: right.range.end },
      };
    }
  }

  private parseUnary(): Expr {
    if (!this.is('-')) return this.depth >= MAX_NESTING ? this.tooDeep() : this.parsePower();
    // Iterative over repeated signs, so `------x` needs no recursion.
    const signs: Token[] = [];
    while (this.is('-')) signs.push(this.advance());
    if (this.depth + signs.length >= MAX_NESTING) return this.tooDeep();
    let expr = this.parsePower();
    for (let k = signs.length - 1; k >= 0; k--) {
      expr = { kind: 'unary', op: '-', operand: expr, range: { start: signs[k].start, end: expr.range.end } };
    }
    return expr;
  }

  private parsePower(): Expr {
    const base = this.parsePostfix();
    if (!this.is('**')) return base;
    const op = this.advance();
    const exponent = this.depth >= MAX_NESTING ? this.tooDeep() : this.withDepth(() => this.parseUnary());
    return {
      kind: 'binary',
      op: '**',
      left: base,
      right: exponent,
      opRange: { start: op.start, end: op.end },
      range: { start: base.range.start, end: exponent.range.end },
    };
  }

  private withDepth<T>(f: () => T): T {
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private parsePostfix(): Expr {
    let expr = this.parsePrimary();
    for (;;) {
      if (this.is('(')) {
        const open = this.advance();
        const args = this.parseArgs(open);
        expr = { kind: 'call', callee: expr, args, range: { start: expr.range.start, end: this.previousEnd() } };
      } else if (this.is('[')) {
        const open = this.advance();
        const items = this.parseIndexItems(open);
        expr = { kind: 'subscript', target: expr, items, range: { start: expr.range.start, end: this.previousEnd() } };
      } else {
        return expr;
      }
    }
  }

  /** The items of a subscript after its `[`, through the `]`: `:, 1:T-1:2, ..., -1`. */
  private parseIndexItems(open: Token): IndexItem[] {
    const list = this.startList();
    do {
      if (this.is(']')) break;
      this.addToList(this.parseIndexItem());
    } while (this.accept(','));
    const items = this.endList<IndexItem>(list);
    if (!this.accept(']')) {
      this.error('`,` or `]`');
      this.skipToCloser(open);
    }
    return items;
  }

  private parseIndexItem(): IndexItem {
    const start = this.token.start;
    const ellipsis = this.accept('...');
    if (ellipsis) return { kind: 'ellipsis', range: { start, end: ellipsis.end } };
    const bound = (): Expr | null => (this.is(':') || this.is(',') || this.is(']') ? null : this.parseExpr());
    const first = bound();
    if (first !== null && !this.is(':')) return { kind: 'index', expr: first, range: first.range };
    this.expect(':');
    const stop = bound();
    const step = this.accept(':') ? bound() : null;
    return { kind: 'slice', start: first, stop, step, range: { start, end: this.previousEnd() } };
  }

  private parseArgs(open: Token): Arg[] {
    const list = this.startList();
    while (!this.is(')') && this.token.kind !== 'eof') {
      const start = this.token.start;
      let name: Ident | null = null;
      const t = this.token;
      if ((t.kind === 'name' || t.kind === 'keyword') && this.peek().kind === 'punct' && this.peek().text === '=') {
        // Keyword arguments may be spelled like language keywords: `fashion_mnist(train = 2000)`.
        name = { kind: 'ident', name: t.text, range: { start: t.start, end: t.end } };
        this.advance();
        this.advance();
      }
      const value = this.parseExpr();
      // A positional argument spans exactly its value: the two share one range object.
      const end = this.previousEnd();
      const range = name === null && value.range.start === start && value.range.end === end ? value.range : { start, end };
      this.addToList({ name, value, range } satisfies Arg);
      if (!this.accept(',')) break;
    }
    const args = this.endList<Arg>(list);
    if (!this.accept(')')) {
      this.error('`,` or `)`');
      this.skipToCloser(open);
    }
    return args;
  }

  /** After an error inside brackets, skips to the matching closer on this line and consumes it. */
  private skipToCloser(open: Token): void {
    const closer = open.text === '(' ? ')' : ']';
    let depth = 0;
    for (;;) {
      const t = this.token;
      if (t.kind === 'eof' || t.kind === 'newline') return;
      if (t.kind === 'punct') {
        if (t.text === '(' || t.text === '[') depth++;
        else if (t.text === ')' || t.text === ']') {
          if (depth === 0) {
            if (t.text === closer) this.advance();
            return;
          }
          depth--;
        } else if (t.text === '}' || t.text === ';') return;
      }
      this.advance();
    }
  }

  private parsePrimary(): Expr {
    const t = this.token;
    const range = { start: t.start, end: t.end };
    switch (t.kind) {
      case 'name':
        this.advance();
        return { kind: 'name', name: t.text, range };
      case 'number': {
        this.advance();
        const value = Number(t.text);
        if (!Number.isFinite(value)) this.error('a finite number', t);
        return { kind: 'number', value, text: t.text, range };
      }
      case 'string':
        this.advance();
        return { kind: 'string', value: t.value ?? '', range };
      case 'keyword':
        if (t.text === 'true' || t.text === 'false') {
          this.advance();
          return { kind: 'bool', value: t.text === 'true', range };
        }
        break;
      case 'punct':
        if (t.text === '(') {
          this.advance();
          const inner = this.parseExpr();
          if (this.is(',')) {
            const list = this.startList();
            this.addToList(inner);
            while (this.accept(',') && !this.is(')') && this.token.kind !== 'eof') this.addToList(this.parseExpr());
            const items = this.endList<Expr>(list);
            if (!this.accept(')')) {
              this.error('`,` or `)`');
              this.skipToCloser(t);
            }
            return { kind: 'tuple', items, range: { start: t.start, end: this.previousEnd() } };
          }
          if (!this.accept(')')) {
            this.error('`)`');
            this.skipToCloser(t);
          }
          return { kind: 'paren', inner, range: { start: t.start, end: this.previousEnd() } };
        }
        if (t.text === '[') {
          this.advance();
          const list = this.startList();
          while (!this.is(']') && this.token.kind !== 'eof') {
            this.addToList(this.parseExpr());
            if (!this.accept(',')) break;
          }
          const items = this.endList<Expr>(list);
          if (!this.accept(']')) {
            this.error('`,` or `]`');
            this.skipToCloser(t);
          }
          return { kind: 'list', items, range: { start: t.start, end: this.previousEnd() } };
        }
        break;
      default:
        break;
    }
    if (this.atItemKeyword()) {
      // `const hid = 16 +` before a `model`: the expression is missing where the line ends; the item keyword starts the next item.
      const end = this.previousEnd();
      if (this.errors.length === this.statementMark) this.errors.push(makeDiagnostic('NN1001', { start: end, end }, ['an expression', describe(t)]));
      return { kind: 'error', range: { start: end, end } };
    }
    this.error('an expression');
    return { kind: 'error', range: { start: t.start, end: t.start } };
  }
}
