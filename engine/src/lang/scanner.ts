// The scanner: turns `.nn` text into tokens with offsets, keeps comments as trivia, and
// decides which newlines end a statement (LANGUAGE.md §2).

import type { TextRange } from './api.js';

export type TokenKind =
  | 'name'
  | 'keyword'
  | 'number'
  | 'string'
  | 'punct'
  | 'newline' // a statement-ending newline (continuation newlines are dropped)
  | 'comment' // trivia: the parser skips it
  | 'error' // a character the language does not use
  | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** The decoded value of a string token (escapes applied). */
  value?: string;
}

export interface ScanError {
  code: 'NN1001' | 'NN1002';
  range: TextRange;
  args: string[];
}

/** The keywords that start a top-level item (the parser's items; the grammar's list is generated from it). */
export const ITEM_KEYWORDS: readonly string[] = ['import', 'const', 'model', 'fn', 'train'];

export const KEYWORDS: ReadonlySet<string> = new Set([...ITEM_KEYWORDS, 'grad', 'return', 'true', 'false']);

/** Keywords that can only start a statement or item, so a line starting with one ends an unclosed bracket. */
const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set([...ITEM_KEYWORDS, 'return']);

/** Operators after which a newline continues the statement. */
const CONTINUING: ReadonlySet<string> = new Set(['+', '-', '*', '/', '**', '@', '|>', ',', '=', '->', '<', '>', '<=', '>=', '==', '!=']);

const SINGLE_PUNCTUATION = new Map<number, string>([...'()[]{},=+-*/@:;<>'].map((p) => [p.charCodeAt(0), p]));

/** The punctuation token starting at `i` (two-character operators first), if any. */
function punctuationAt(text: string, i: number, c: number): string | undefined {
  const next = text.charCodeAt(i + 1);
  if (c === 124 /* | */ && next === 62 /* > */) return '|>';
  if (c === 45 /* - */ && next === 62) return '->';
  if (c === 42 /* * */ && next === 42) return '**';
  // Comparisons: `<=`, `>=`, `==`, `!=` (a lone `!` is no operator).
  if (next === 61 /* = */ && (c === 60 /* < */ || c === 62 /* > */ || c === 61 || c === 33 /* ! */)) return text.slice(i, i + 2);
  if (c === 46 /* . */ && next === 46 && text.charCodeAt(i + 2) === 46) return '...';
  return SINGLE_PUNCTUATION.get(c);
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** The indentation (in characters) of the line holding `offset`. */
function indentation(text: string, offset: number): number {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let k = lineStart;
  while (text[k] === ' ' || text[k] === '\t') k++;
  return k - lineStart;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Tokens of `text`, comments included as trivia, ending with an `eof` token. */
export function scan(text: string): Token[] {
  const lexer = new Lexer(text, true);
  const tokens: Token[] = [];
  for (let t = lexer.next(); ; t = lexer.next()) {
    tokens.push(t);
    if (t.kind === 'eof') return tokens;
  }
}

/**
 * Tokens on demand, one `next()` at a time, so that a parser holds only the few it looks
 * at: a token is garbage as soon as it is consumed. `errors` collects the lexical errors
 * (unterminated strings and brackets, stray characters); it is complete once `eof` is out.
 * With `trivia: false` comments are skipped (the parser does not need them).
 */
export class Lexer {
  readonly errors: ScanError[] = [];
  private readonly brackets: Token[] = []; // open brackets not yet closed
  private i = 0;
  /** The last token returned that is not a comment. */
  private lastSignificant: Token | undefined;
  private finished = false;

  /** Scans `text` from `start` (a top-level item's start, for a re-parse of some items). */
  constructor(
    private readonly text: string,
    private readonly trivia: boolean,
    start = 0,
  ) {
    this.i = start;
  }

  /** The next token; `eof` at the end, again on every later call. */
  next(): Token {
    const token = this.scanToken();
    if (token.kind !== 'comment') this.lastSignificant = token;
    return token;
  }

  /**
   * Whether the line after the newline at `from` starts a statement of its own, though the
   * text before it (`previous`, in brackets or not) continues: it starts with a statement
   * keyword, or with `name =` where no keyword argument or value can be. So a half-typed
   * `loss =` or `Adam(lr =` ends at its line, and the next line is parsed as its own statement.
   * In brackets, `name =` after `(` or `,` is a keyword argument unless the line is indented no
   * deeper than the line that opened the brackets.
   */
  private nextLineStarts(from: number, previous: Token | undefined, inBrackets: boolean): boolean {
    const { text } = this;
    const lineStart = this.nextLineStart(from);
    const line = /^([A-Za-z_]\w*)\s*(=(?!=))?/.exec(text.slice(lineStart, lineStart + 40));
    if (line === null) return false;
    // `train = 2000` inside a call is a keyword argument, not a new statement.
    if (STATEMENT_KEYWORDS.has(line[1]) && line[2] === undefined) return true;
    if (line[2] === undefined || previous?.kind !== 'punct') return inBrackets && line[2] !== undefined;
    if (!inBrackets) return previous.text !== ',' && CONTINUING.has(previous.text);
    if (previous.text !== '(' && previous.text !== ',') return true;
    // The outermost bracket open since the last `{`: the one the statement opened first.
    let k = this.brackets.length - 1;
    while (k > 0 && this.brackets[k - 1].text !== '{') k--;
    return indentation(text, lineStart) <= indentation(text, this.brackets[k].start);
  }

  /** The first token-start offset of the next line, skipping blank and comment-only lines. */
  private nextLineStart(from: number): number {
    const { text } = this;
    const n = text.length;
    let k = from;
    for (;;) {
      while (k < n && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r' || text[k] === '\n')) k++;
      if (k < n && text[k] === '#') {
        while (k < n && text[k] !== '\n') k++;
        continue;
      }
      return k;
    }
  }

  private unclosed(open: Token): void {
    this.errors.push({ code: 'NN1002', range: { start: open.start, end: open.end }, args: [open.text] });
  }

  private scanToken(): Token {
    const { text, brackets, errors } = this;
    const n = text.length;
    let i = this.i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (c === 10) {
        const start = i;
        i++;
        const top = brackets[brackets.length - 1];
        const inBrackets = top !== undefined && top.text !== '{';
        const previous = this.lastSignificant;
        // The next line is looked at only where it decides (in brackets, or after a continuing
        // operator), not at every newline.
        if (inBrackets) {
          // A statement at the start of the next line means the bracket was never closed.
          if (!this.nextLineStarts(i, previous, true)) continue;
          while (brackets.length > 0 && brackets[brackets.length - 1].text !== '{') this.unclosed(brackets.pop()!);
        }
        if (previous === undefined || previous.kind === 'newline') continue;
        if (previous.kind === 'punct' && (previous.text === '{' || (CONTINUING.has(previous.text) && !inBrackets && !this.nextLineStarts(i, previous, false)))) continue;
        // Blank and comment lines are skipped only here, where a statement may end: a line starting with `|>` continues it.
        if (text.startsWith('|>', this.nextLineStart(i))) continue;
        this.i = i;
        return { kind: 'newline', text: '\n', start, end: start + 1 };
      }
      if (c === 35) {
        const start = i;
        while (i < n && text.charCodeAt(i) !== 10) i++;
        if (!this.trivia) continue;
        this.i = i;
        return { kind: 'comment', text: text.slice(start, i), start, end: i };
      }
      if (isNameStart(c)) {
        const start = i;
        while (i < n && (isNameStart(text.charCodeAt(i)) || isDigit(text.charCodeAt(i)))) i++;
        const word = text.slice(start, i);
        this.i = i;
        return { kind: KEYWORDS.has(word) ? 'keyword' : 'name', text: word, start, end: i };
      }
      if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
        const start = i;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
        if (text[i] === '.' && isDigit(text.charCodeAt(i + 1))) {
          i++;
          while (i < n && isDigit(text.charCodeAt(i))) i++;
        } else if (text[i] === '.' && !isNameStart(text.charCodeAt(i + 1))) {
          i++;
        }
        if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text.charCodeAt(i + 1)) || ((text[i + 1] === '-' || text[i + 1] === '+') && isDigit(text.charCodeAt(i + 2))))) {
          i += 2;
          while (i < n && isDigit(text.charCodeAt(i))) i++;
        }
        this.i = i;
        return { kind: 'number', text: text.slice(start, i), start, end: i };
      }
      if (c === 34) {
        const start = i;
        i++;
        let value = '';
        let closed = false;
        while (i < n) {
          const ch = text[i];
          if (ch === '\n') break;
          if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
            value += text[i + 1];
            i += 2;
            continue;
          }
          i++;
          if (ch === '"') {
            closed = true;
            break;
          }
          value += ch;
        }
        if (!closed) errors.push({ code: 'NN1002', range: { start, end: i }, args: ['"'] });
        this.i = i;
        return { kind: 'string', text: text.slice(start, i), start, end: i, value };
      }
      const punct = punctuationAt(text, i, c);
      if (punct === undefined) {
        const start = i;
        i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
        this.i = i;
        return { kind: 'error', text: text.slice(start, i), start, end: i };
      }
      const token: Token = { kind: 'punct', text: punct, start: i, end: i + punct.length };
      i += punct.length;
      if (punct === '(' || punct === '[' || punct === '{') {
        brackets.push(token);
      } else if (punct === ')' || punct === ']' || punct === '}') {
        // Pop the matching opener; a `}` also closes any bracket left open inside its block.
        const at = findOpener(brackets, punct);
        if (at >= 0) {
          while (brackets.length > at + 1) this.unclosed(brackets.pop()!);
          brackets.pop();
        }
      }
      this.i = i;
      return token;
    }
    this.i = i;
    return this.finish();
  }

  /** At the end of the text: the unclosed brackets, a last statement-ending newline, then `eof`. */
  private finish(): Token {
    const n = this.text.length;
    if (!this.finished) {
      this.finished = true;
      for (const open of this.brackets) this.unclosed(open);
      this.brackets.length = 0;
      const last = this.lastSignificant;
      if (last !== undefined && last.kind !== 'newline') return { kind: 'newline', text: '', start: n, end: n };
    }
    return { kind: 'eof', text: '', start: n, end: n };
  }
}

const KIND_CODES: Readonly<Record<TokenKind, number>> = { name: 0, keyword: 1, number: 2, string: 3, punct: 4, newline: 5, comment: 6, error: 7, eof: 8 };
const TOKEN_KINDS = Object.keys(KIND_CODES) as TokenKind[];

/**
 * The spans of every token a lexer handed out, comments (trivia) included, kept as numbers
 * (start, end, kind) so that keeping them costs the parse little; `tokens()` makes the
 * token objects when the editor asks.
 */
export class TokenSpans {
  private data = new Int32Array(3 * 256);
  private count = 0;

  constructor(private readonly text: string) {}

  add(token: Token): void {
    if (3 * (this.count + 1) > this.data.length) {
      const grown = new Int32Array(2 * this.data.length);
      grown.set(this.data);
      this.data = grown;
    }
    const at = 3 * this.count++;
    this.data[at] = token.start;
    this.data[at + 1] = token.end;
    this.data[at + 2] = KIND_CODES[token.kind];
  }

  /**
   * The spans of a re-parse: this text's before `from`, those of `middle` (a re-parse of
   * `[from, to)`) before `to`, then `previous`'s (the text before the edit) from `previousTo`,
   * moved by `delta`.
   */
  static spliced(text: string, previous: TokenSpans, middle: TokenSpans, from: number, to: number, previousTo: number, delta: number): TokenSpans {
    const head = previous.countBefore(from);
    const body = middle.countBefore(to);
    const tail = previous.count - previous.countBefore(previousTo);
    const out = new TokenSpans(text);
    out.data = new Int32Array(Math.max(3, 3 * (head + body + tail)));
    out.data.set(previous.data.subarray(0, 3 * head));
    out.data.set(middle.data.subarray(0, 3 * body), 3 * head);
    const at = 3 * (head + body);
    const moved = previous.data.subarray(3 * (previous.count - tail), 3 * previous.count);
    out.data.set(moved, at);
    for (let k = at; k < at + moved.length; k += 3) {
      out.data[k] += delta;
      out.data[k + 1] += delta;
    }
    out.count = head + body + tail;
    return out;
  }

  /** How many spans start before `offset` (spans are in source order). */
  private countBefore(offset: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.data[3 * mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The tokens, in source order, without statement ends and `eof`. */
  tokens(): Token[] {
    const out: Token[] = [];
    for (let k = 0; k < this.count; k++) {
      const kind = TOKEN_KINDS[this.data[3 * k + 2]];
      if (kind === 'newline' || kind === 'eof') continue;
      const start = this.data[3 * k];
      const end = this.data[3 * k + 1];
      out.push({ kind, text: this.text.slice(start, end), start, end });
    }
    return out;
  }
}

/**
 * A lexer that also keeps the span of every token it hands out, comments included, while
 * the parser sees only the significant ones: the editor's tokens are the parser's own.
 */
export class RecordingLexer extends Lexer {
  readonly spans: TokenSpans;

  constructor(text: string, start = 0) {
    super(text, true, start);
    this.spans = new TokenSpans(text);
  }

  next(): Token {
    for (;;) {
      const token = super.next();
      if (token.kind !== 'eof') this.spans.add(token);
      if (token.kind !== 'comment') return token;
    }
  }
}

function findOpener(brackets: Token[], closer: string): number {
  for (let k = brackets.length - 1; k >= 0; k--) {
    if (CLOSERS[brackets[k].text] === closer) return k;
    if (brackets[k].text === '{' && closer !== '}') return -1; // a stray closer inside a block
  }
  return -1;
}
