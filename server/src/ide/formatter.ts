// The canonical layout of a `.nn` file, from the parser's tokens (comments included) and its
// syntax tree, so that only whitespace changes: two-space indentation per block, statements
// continued on later lines four spaces deeper, one space around binary operators, a block's
// braces on lines of their own when the block spans lines, aligned `=` in runs of layer
// declarations and train keys, trailing comments aligned within a run of lines (as gofmt
// aligns them), at most one blank line. An item with a syntax error keeps its text as it is,
// so an unclosed bracket re-indents nothing. Formatting its own output changes nothing.

import type { Token } from '../../../engine/src/lang/scanner.js';
import type { TextRange } from '../../../engine/src/lang/api.js';
import type { Block, SourceFile } from '../../../engine/src/lang/syntax.js';

const binaryOperators = new Set(['+', '-', '*', '/', '**', '@', '=', '|>', '->', '<', '>', '<=', '>=', '==', '!=']);
const openers = new Set(['(', '[']);
const closers = new Set([')', ']']);

interface Line {
  tokens: Token[]; // code tokens, comments excluded
  comment: Token | null; // a trailing or full-line comment
  blankBefore: number;
  indent: number;
  continuation: boolean;
  /** Blocks around the line's first token. */
  depth: number;
  /** Inside a `train` block's braces. */
  inTrain: boolean;
  /** The original text of a line of an item with a syntax error: kept as it is. */
  verbatim: string | null;
}

/** What the layout reads from the tree: blocks, the spans statements cover, items left as they are. */
interface Structure {
  /** Each block's `{` offset and `}` offset (the text's end when it never closes). */
  blocks: { open: number; close: number; train: boolean; multiline: boolean }[];
  /** Statements, train entries, consts and item headers, in source order and disjoint: a line starting inside one continues it. */
  statements: TextRange[];
  /** Items with a syntax error in them. */
  broken: TextRange[];
}

/**
 * The formatted text, or null when the tokens do not cover the text's non-blank characters.
 * `errors` are the offsets of the syntax errors (NN1001, NN1002).
 */
export function formatText(text: string, allTokens: readonly Token[], tree: SourceFile, errors: readonly number[]): string | null {
  const tokens = allTokens.filter((t) => t.kind !== 'newline' && t.kind !== 'eof');
  if (!coversText(text, tokens)) return null;
  const structure = structureOf(tree, text, errors);
  const lines = splitLines(text, tokens, structure);
  layOut(lines, structure);
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

function structureOf(tree: SourceFile, text: string, errors: readonly number[]): Structure {
  const structure: Structure = { blocks: [], statements: [], broken: [] };
  const addBlock = (range: TextRange, train: boolean) => {
    if (text[range.start] !== '{') return;
    const closed = range.end > range.start + 1 && text[range.end - 1] === '}';
    const close = closed ? range.end - 1 : text.length;
    structure.blocks.push({ open: range.start, close, train, multiline: text.slice(range.start, close).includes('\n') });
  };
  const addBody = (block: Block) => {
    addBlock(block.range, false);
    for (const stmt of block.stmts) structure.statements.push(stmt.range);
  };
  for (const item of tree.items) {
    if (item.kind === 'error' || errors.some((e) => e >= item.range.start && e <= item.range.end)) {
      structure.broken.push(item.range);
      continue;
    }
    if (item.kind === 'const' || item.kind === 'import') structure.statements.push(item.range);
    else if (item.kind === 'train') {
      addBlock(item.body, true);
      structure.statements.push({ start: item.range.start, end: item.body.start });
      for (const entry of item.entries) structure.statements.push(entry.range);
    } else {
      structure.statements.push({ start: item.range.start, end: item.body.range.start });
      addBody(item.body);
      if (item.kind === 'fn' && item.grad) addBody(item.grad.body);
    }
  }
  structure.statements.sort((a, b) => a.start - b.start);
  return structure;
}

const within = (ranges: readonly TextRange[], offset: number) => ranges.some((r) => r.start <= offset && offset < r.end);

/** Of ranges sorted by start and not overlapping, the last one starting before `offset` (binary search). */
function lastStartingBefore(ranges: readonly TextRange[], offset: number): TextRange | null {
  let lo = 0;
  let hi = ranges.length - 1;
  let found: TextRange | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].start < offset) {
      found = ranges[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function splitLines(text: string, tokens: readonly Token[], structure: Structure): Line[] {
  // A block spanning lines puts its braces at line ends: code after `{` or before `}` moves to a line of its own.
  const breakBefore = new Set<number>();
  for (const block of structure.blocks) {
    if (!block.multiline) continue;
    const afterOpen = tokens.find((t) => t.start > block.open);
    if (afterOpen && afterOpen.kind !== 'comment' && afterOpen.start < block.close && !text.slice(block.open, afterOpen.start).includes('\n')) breakBefore.add(afterOpen.start);
    if (block.close < text.length) {
      const lineStart = text.lastIndexOf('\n', block.close - 1) + 1;
      if (/\S/.test(text.slice(lineStart, block.close))) breakBefore.add(block.close);
    }
  }
  const lines: Line[] = [];
  let previousEnd = 0;
  for (const t of tokens) {
    const newlines = (text.slice(previousEnd, t.start).match(/\n/g) ?? []).length;
    const broken = within(structure.broken, t.start);
    const forced = breakBefore.has(t.start) && !broken;
    if (lines.length === 0 || newlines > 0 || forced) {
      const lineStart = text.lastIndexOf('\n', t.start - 1) + 1;
      const lineEnd = text.indexOf('\n', t.start);
      const verbatim = broken ? text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, '') : null;
      lines.push({ tokens: [], comment: null, blankBefore: lines.length === 0 ? 0 : Math.min(1, Math.max(0, newlines - 1)), indent: 0, continuation: false, depth: 0, inTrain: false, verbatim });
    }
    const line = lines[lines.length - 1];
    if (t.kind === 'comment') line.comment = t;
    else line.tokens.push(t);
    previousEnd = t.end;
  }
  return lines;
}

/** Indentation and blank lines: the blocks around a line set its depth, a statement begun above continues it. */
function layOut(lines: Line[], structure: Structure): void {
  let previousCode: Line | null = null;
  for (const line of lines) {
    const first = line.tokens[0] ?? line.comment!;
    const at = first.start;
    const around = structure.blocks.filter((b) => b.open < at && at < b.close);
    line.depth = around.length;
    line.inTrain = around.some((b) => b.train);
    if (line.verbatim !== null) {
      previousCode = line.tokens.length > 0 ? line : previousCode;
      continue;
    }
    if (line.tokens.length === 0) {
      line.indent = 2 * line.depth;
      continue;
    }
    const lineStart = first.start;
    const last = previousCode?.tokens[previousCode.tokens.length - 1];
    const statement = lastStartingBefore(structure.statements, lineStart);
    const startedAbove = statement !== null && lineStart < statement.end;
    line.continuation = startedAbove && !closers.has(first.text) && first.text !== '{';
    line.indent = 2 * line.depth + (line.continuation ? 4 : 0);
    // No blank line right after an opening brace or right before a closing one.
    if (first.text === '}' || (previousCode && last?.text === '{')) line.blankBefore = 0;
    // Top-level items are separated by one blank line.
    if (line.depth === 0 && previousCode && last?.text === '}' && !line.continuation && first.text !== 'grad' && first.text !== '}') line.blankBefore = 1;
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

/** Whether token i is inside a subscript's brackets (`x[1:3]`) on its line, where `:` separates bounds. */
function inSubscript(tokens: readonly Token[], i: number): boolean {
  let depth = 0;
  for (let k = i - 1; k >= 0; k--) {
    const t = tokens[k].text;
    if (closers.has(t)) depth++;
    else if (openers.has(t)) {
      if (depth === 0) return t === '[' && k > 0 && (tokens[k - 1].kind === 'name' || closers.has(tokens[k - 1].text));
      depth--;
    }
  }
  return false;
}

function spaceBetween(tokens: readonly Token[], i: number): string {
  const a = tokens[i - 1];
  const b = tokens[i];
  // A slice is written as in Python: `x[1:3, ::2]`, `x[..., :d]`.
  if (b.text === ':' && a.text === ',' && inSubscript(tokens, i)) return ' ';
  if (a.text === ':' && inSubscript(tokens, i)) return '';
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
  if (line.verbatim !== null) return line.verbatim;
  if (line.tokens.length === 0) return line.comment ? `${' '.repeat(line.indent)}${line.comment.text.trimEnd()}` : '';
  let out = ' '.repeat(line.indent);
  line.tokens.forEach((t, i) => {
    if (i > 0) out += spaceBetween(line.tokens, i);
    out += t.text;
  });
  return out;
}

/**
 * Trailing comments of a run of consecutive code lines (no blank or comment-only line
 * between) start in one column, two spaces after the longest code from the run's first
 * commented line to its last; lines without a comment in between keep the run going.
 */
function alignTrailingComments(lines: Line[], rendered: string[]): void {
  let run: number[] = [];
  const flush = () => {
    const commented = run.filter((i) => lines[i].comment !== null);
    if (commented.length > 0) {
      const span = run.slice(run.indexOf(commented[0]), run.indexOf(commented[commented.length - 1]) + 1);
      const width = Math.max(...span.map((i) => rendered[i].length));
      for (const i of commented) rendered[i] = `${rendered[i].padEnd(width)}  ${lines[i].comment!.text.trimEnd()}`;
    }
    run = [];
  };
  lines.forEach((line, i) => {
    const code = line.tokens.length > 0 && line.verbatim === null;
    if (!code || line.blankBefore > 0) flush();
    if (code) run.push(i);
  });
  flush();
}

/**
 * Aligns the `=` of consecutive lines that declare layers or params (`fc1   = Ctor(...)`)
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
  lines.forEach((line, i) => {
    const [name, equals, value] = line.tokens;
    const aligned =
      line.verbatim === null &&
      line.depth > 0 &&
      !line.continuation &&
      name?.kind === 'name' &&
      equals?.text === '=' &&
      value !== undefined &&
      (line.inTrain || /^[A-Z]/.test(value.text) || value.text === 'param');
    const sameRun = run.length > 0 && line.blankBefore === 0 && lines[i].indent === lines[run[0]].indent;
    if (!aligned || !sameRun) flush();
    if (aligned) run.push(i);
  });
  flush();
}
