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

export const KEYWORDS: ReadonlySet<string> = new Set(['const', 'model', 'fn', 'grad', 'train', 'return', 'true', 'false']);

/** Keywords that can only start a statement or item, so a line starting with one ends an unclosed bracket. */
const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set(['const', 'model', 'fn', 'train', 'return']);

/** Operators after which a newline continues the statement. */
const CONTINUING: ReadonlySet<string> = new Set(['+', '-', '*', '/', '**', '@', '|>', ',', '=', '->']);

const SINGLE_PUNCTUATION = new Map<number, string>([...'()[]{},=+-*/@:;'].map((p) => [p.charCodeAt(0), p]));

/** The punctuation token starting at `i` (two-character operators first), if any. */
function punctuationAt(text: string, i: number, c: number): string | undefined {
  const next = text.charCodeAt(i + 1);
  if (c === 124 /* | */ && next === 62 /* > */) return '|>';
  if (c === 45 /* - */ && next === 62) return '->';
  if (c === 42 /* * */ && next === 42) return '**';
  return SINGLE_PUNCTUATION.get(c);
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Tokens of `text`, comments included as trivia, ending with an `eof` token. */
export function scan(text: string): Token[] {
  return lex(text).tokens;
}

/**
 * Tokens plus the lexical errors (unterminated strings and brackets, stray characters).
 * With `trivia: false` comments are skipped (the parser does not need them).
 */
export function lex(text: string, options: { trivia: boolean } = { trivia: true }): { tokens: Token[]; errors: ScanError[] } {
  const tokens: Token[] = [];
  const errors: ScanError[] = [];
  const brackets: Token[] = []; // open brackets not yet closed
  let i = 0;
  const n = text.length;

  const lastSignificant = (): Token | undefined => {
    for (let k = tokens.length - 1; k >= 0; k--) if (tokens[k].kind !== 'comment') return tokens[k];
    return undefined;
  };

  /** The first token-start offset of the next line, skipping blank and comment-only lines. */
  const nextLineStart = (from: number): number => {
    let k = from;
    for (;;) {
      while (k < n && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r' || text[k] === '\n')) k++;
      if (k < n && text[k] === '#') {
        while (k < n && text[k] !== '\n') k++;
        continue;
      }
      return k;
    }
  };

  const unclosed = (open: Token) =>
    errors.push({ code: 'NN1002', range: { start: open.start, end: open.end }, args: [open.text] });

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
      const previous = lastSignificant();
      if (inBrackets) {
        // A statement keyword at the start of the next line means the bracket was never closed.
        const lineStart = nextLineStart(i);
        const line = /^([A-Za-z_]\w*)\s*(=?)/.exec(text.slice(lineStart, lineStart + 40));
        // `train = 2000` inside a call is a keyword argument, not a new statement.
        if (line === null || !STATEMENT_KEYWORDS.has(line[1]) || line[2] === '=') continue;
        while (brackets.length > 0 && brackets[brackets.length - 1].text !== '{') unclosed(brackets.pop()!);
      }
      if (previous === undefined || previous.kind === 'newline') continue;
      if (previous.kind === 'punct' && (CONTINUING.has(previous.text) || previous.text === '{')) continue;
      // Blank and comment lines are skipped only here, where a statement may end: a line starting with `|>` continues it.
      if (text.startsWith('|>', nextLineStart(i))) continue;
      tokens.push({ kind: 'newline', text: '\n', start, end: start + 1 });
      continue;
    }
    if (c === 35) {
      const start = i;
      while (i < n && text.charCodeAt(i) !== 10) i++;
      if (options.trivia) tokens.push({ kind: 'comment', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (isNameStart(c)) {
      const start = i;
      while (i < n && (isNameStart(text.charCodeAt(i)) || isDigit(text.charCodeAt(i)))) i++;
      const word = text.slice(start, i);
      tokens.push({ kind: KEYWORDS.has(word) ? 'keyword' : 'name', text: word, start, end: i });
      continue;
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
      tokens.push({ kind: 'number', text: text.slice(start, i), start, end: i });
      continue;
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
      tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i, value });
      continue;
    }
    const punct = punctuationAt(text, i, c);
    if (punct === undefined) {
      const start = i;
      i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      tokens.push({ kind: 'error', text: text.slice(start, i), start, end: i });
      continue;
    }
    const token: Token = { kind: 'punct', text: punct, start: i, end: i + punct.length };
    i += punct.length;
    if (punct === '(' || punct === '[' || punct === '{') {
      brackets.push(token);
    } else if (punct === ')' || punct === ']' || punct === '}') {
      // Pop the matching opener; a `}` also closes any bracket left open inside its block.
      const at = findOpener(brackets, punct);
      if (at >= 0) {
        while (brackets.length > at + 1) unclosed(brackets.pop()!);
        brackets.pop();
      }
    }
    tokens.push(token);
  }
  for (const open of brackets) unclosed(open);
  const last = lastSignificant();
  if (last !== undefined && last.kind !== 'newline') tokens.push({ kind: 'newline', text: '', start: n, end: n });
  tokens.push({ kind: 'eof', text: '', start: n, end: n });
  return { tokens, errors };
}

function findOpener(brackets: Token[], closer: string): number {
  for (let k = brackets.length - 1; k >= 0; k--) {
    if (CLOSERS[brackets[k].text] === closer) return k;
    if (brackets[k].text === '{' && closer !== '}') return -1; // a stray closer inside a block
  }
  return -1;
}
