// The canonical layout of a `.nn` file, computed from the scanner's tokens so that only
// whitespace changes: two-space indentation per brace, continuation lines four spaces deeper,
// one space around binary operators, aligned `=` in runs of layer declarations and train keys,
// aligned trailing comments, at most one blank line. Formatting its own output changes nothing.

import type { Token } from './syntax.js';

const binaryOperators = new Set(['+', '-', '*', '/', '**', '@', '=', '|>', '->']);
const openers = new Set(['(', '[']);
const closers = new Set([')', ']']);

interface Line {
  tokens: Token[]; // code tokens, comments excluded
  comment: Token | null; // a trailing or full-line comment
  blankBefore: number;
  indent: number;
  continuation: boolean;
}

/** The formatted text, or null when the tokens do not cover the text's non-blank characters. */
export function formatText(text: string, tokens: readonly Token[]): string | null {
  if (!coversText(text, tokens)) return null;
  const lines = splitLines(text, tokens);
  layOut(lines);
  const rendered = lines.map(renderCode);
  alignAssignments(lines, rendered);
  alignTrailingComments(lines, rendered);
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (out.length > 0 && line.blankBefore > 0) out.push('');
    out.push(rendered[i]);
  });
  const eol = text.includes('\r\n') ? '\r\n' : '\n'; // keep Windows line ends
  return out.length === 0 ? '' : `${out.join(eol)}${eol}`;
}

/** True when every non-whitespace character of the text lies inside a token. */
function coversText(text: string, tokens: readonly Token[]): boolean {
  let at = 0;
  for (const t of tokens) {
    if (t.start < at || /\S/.test(text.slice(at, t.start))) return false;
    at = t.end;
  }
  return !/\S/.test(text.slice(at));
}

function splitLines(text: string, tokens: readonly Token[]): Line[] {
  const lines: Line[] = [];
  let previousEnd = 0;
  for (const t of tokens) {
    const gap = text.slice(previousEnd, t.start);
    const newlines = (gap.match(/\n/g) ?? []).length;
    if (lines.length === 0 || newlines > 0) {
      lines.push({ tokens: [], comment: null, blankBefore: lines.length === 0 ? 0 : Math.min(1, newlines - 1), indent: 0, continuation: false });
    }
    const line = lines[lines.length - 1];
    if (t.kind === 'comment') line.comment = t;
    else line.tokens.push(t);
    previousEnd = t.end;
  }
  return lines;
}

/** Indentation and blank lines: braces set the depth, open brackets and operators continue. */
function layOut(lines: Line[]): void {
  let braceDepth = 0;
  let bracketDepth = 0;
  let previousCode: Line | null = null;
  for (const line of lines) {
    const first = line.tokens[0];
    if (!first) {
      line.indent = 2 * braceDepth;
      continue;
    }
    const last = previousCode?.tokens[previousCode.tokens.length - 1];
    line.continuation =
      (bracketDepth > 0 && !closers.has(first.text)) ||
      first.text === '|>' ||
      (last !== undefined && (binaryOperators.has(last.text) || last.text === ','));
    const depth = first.text === '}' ? braceDepth - 1 : braceDepth;
    line.indent = 2 * Math.max(0, depth) + (line.continuation ? 4 : 0);
    // No blank line right after an opening brace or right before a closing one.
    if (first.text === '}' || (previousCode && last?.text === '{')) line.blankBefore = 0;
    // Top-level items are separated by one blank line.
    if (braceDepth === 0 && bracketDepth === 0 && previousCode && last?.text === '}' && !line.continuation && first.text !== 'grad') line.blankBefore = 1;
    for (const t of line.tokens) {
      if (t.text === '{') braceDepth++;
      else if (t.text === '}') braceDepth = Math.max(0, braceDepth - 1);
      else if (openers.has(t.text)) bracketDepth++;
      else if (closers.has(t.text)) bracketDepth = Math.max(0, bracketDepth - 1);
    }
    previousCode = line;
  }
  if (lines.length > 0) lines[0].blankBefore = 0;
}

function isUnary(tokens: readonly Token[], i: number): boolean {
  const t = tokens[i];
  if (t.text !== '-' && t.text !== '*') return false;
  const previous = tokens[i - 1];
  if (!previous) return true;
  if (t.text === '*') return previous.text === '[' || previous.text === ',';
  return binaryOperators.has(previous.text) || openers.has(previous.text) || previous.text === ',' || previous.text === ':' || previous.text === ';' || previous.text === '{' || (previous.kind === 'keyword' && previous.text === 'return');
}

function spaceBetween(tokens: readonly Token[], i: number): string {
  const a = tokens[i - 1];
  const b = tokens[i];
  if (b.text === ',' || b.text === ';' || b.text === ':' || closers.has(b.text)) return '';
  if (openers.has(a.text)) return '';
  if (isUnary(tokens, i - 1)) return '';
  if (b.text === '.' || a.text === '.') return '';
  if (b.text === '(') return a.kind === 'name' || closers.has(a.text) || (a.kind === 'keyword' && a.text === 'grad') ? '' : ' ';
  // A name directly before `[` types or parameterizes it: `int[B, T]`, `Residual[c]`.
  if (b.text === '[') return a.kind === 'name' ? '' : ' ';
  return ' ';
}

function renderCode(line: Line): string {
  if (line.tokens.length === 0) return line.comment ? `${' '.repeat(line.indent)}${line.comment.text.trimEnd()}` : '';
  let out = ' '.repeat(line.indent);
  line.tokens.forEach((t, i) => {
    if (i > 0) out += spaceBetween(line.tokens, i);
    out += t.text;
  });
  return out;
}

/** Trailing comments of consecutive code lines start in one column, two spaces after the longest code. */
function alignTrailingComments(lines: Line[], rendered: string[]): void {
  let run: number[] = [];
  const flush = () => {
    const width = Math.max(...run.map((i) => rendered[i].length));
    for (const i of run) rendered[i] = `${rendered[i].padEnd(width)}  ${lines[i].comment!.text.trimEnd()}`;
    run = [];
  };
  lines.forEach((line, i) => {
    const trailing = line.comment !== null && line.tokens.length > 0;
    if (run.length > 0 && (!trailing || line.blankBefore > 0)) flush();
    if (trailing) run.push(i);
  });
  if (run.length > 0) flush();
}

/**
 * Aligns the `=` of consecutive lines that declare layers or params (`fc1   = Linear(...)`)
 * or set train keys, like the examples in the language design.
 */
function alignAssignments(lines: Line[], rendered: string[]): void {
  let run: number[] = [];
  const flush = () => {
    if (run.length > 1) {
      const width = Math.max(...run.map((i) => lines[i].tokens[0].text.length));
      for (const i of run) {
        const line = lines[i];
        const name = line.tokens[0].text;
        const rest = rendered[i].slice(line.indent + name.length).replace(/^ +/, '');
        rendered[i] = `${' '.repeat(line.indent)}${name.padEnd(width)} ${rest}`;
      }
    }
    run = [];
  };
  let braceDepth = 0;
  let inTrain = false;
  lines.forEach((line, i) => {
    const [name, equals, value] = line.tokens;
    const aligned =
      braceDepth > 0 &&
      !line.continuation &&
      name?.kind === 'name' &&
      equals?.text === '=' &&
      value !== undefined &&
      (inTrain || /^[A-Z]/.test(value.text) || value.text === 'param');
    const sameRun = run.length > 0 && line.blankBefore === 0 && lines[i].indent === lines[run[0]].indent;
    if (!aligned || !sameRun) flush();
    if (aligned) run.push(i);
    for (const t of line.tokens) {
      if (t.kind === 'keyword' && t.text === 'train' && braceDepth === 0) inTrain = true;
      if (t.text === '{') braceDepth++;
      else if (t.text === '}') {
        braceDepth = Math.max(0, braceDepth - 1);
        if (braceDepth === 0) inTrain = false;
      }
    }
  });
  flush();
}
