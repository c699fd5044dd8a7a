// `nn check FILE... [--format text|json] [--max-parameters N] [--max-activation-bytes N]
// [--data-cache DIR] [--data-mirror URL]`:
// checks .nn files and prints each diagnostic like rustc/tsc (`file:line:col: severity CODE:
// message`, the source line, a caret underline), or one JSON array with 1-based lines and
// columns. Exit 1 when there is an error.

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { fileChecks } from '../data/index.js';
import { sourceChecks } from '../data/sourceFiles.js';
import type { Diagnostic, TextRange } from '../lang/api.js';
import { LineIndex } from '../lang/lines.js';
import { checkProgram } from '../lang/program.js';
import { sizeLimitDiagnostics } from '../run/limits.js';
import { DATA_OPTIONS, DATA_USAGE, LIMIT_OPTIONS, LIMITS_USAGE, dataSourcesOption, sizeLimitsOption } from './command.js';

const USAGE = `usage: nn check FILE... [--format text|json] ${LIMITS_USAGE} ${DATA_USAGE}`;

/** A range as 1-based line and column positions (columns in UTF-16 code units, like editors). */
export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export function spanOf(lines: LineIndex, range: TextRange): Span {
  const start = lines.position(range.start);
  const end = lines.position(range.end);
  return { line: start.line + 1, column: start.character + 1, endLine: end.line + 1, endColumn: end.character + 1 };
}

export interface JsonDiagnostic extends Span {
  file: string;
  severity: Diagnostic['severity'];
  code: string;
  message: string;
  related: (Span & { file: string; message: string })[];
  fixes: { title: string; edits: (Span & { newText: string })[] }[];
}

export function toJson(file: string, lines: LineIndex, d: Diagnostic): JsonDiagnostic {
  return {
    file,
    ...spanOf(lines, d.range),
    severity: d.severity,
    code: d.code,
    message: d.message,
    related: d.related.map((r) => ({ file, ...spanOf(lines, r.range), message: r.message })),
    fixes: d.fixes.map((f) => ({ title: f.title, edits: f.edits.map((e) => ({ ...spanOf(lines, e.range), newText: e.newText })) })),
  };
}

/** One diagnostic as text: the location line, the source line with a caret underline, related notes and fixes. */
export function formatText(file: string, lines: LineIndex, d: Diagnostic): string {
  const span = spanOf(lines, d.range);
  const out = [`${file}:${span.line}:${span.column}: ${d.severity} ${d.code}: ${d.message}`];
  out.push(...excerpt(lines, d.range));
  for (const r of d.related) {
    const at = spanOf(lines, r.range);
    out.push(`  = note: ${file}:${at.line}:${at.column}: ${r.message}`);
  }
  for (const f of d.fixes) out.push(`  = fix: ${f.title}`);
  return out.join('\n');
}

function excerpt(lines: LineIndex, range: TextRange): string[] {
  const start = lines.position(range.start);
  const end = lines.position(range.end);
  const source = lines.lineText(start.line).replace(/\t/g, ' ');
  const number = String(start.line + 1);
  const gutter = ' '.repeat(number.length);
  const last = end.line === start.line ? end.character : source.length;
  const width = Math.max(1, last - start.character);
  return [`${gutter} |`, `${number} | ${source}`, `${gutter} | ${' '.repeat(start.character)}${'^'.repeat(width)}`];
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { format: { type: 'string', default: 'text' }, help: { type: 'boolean', short: 'h' }, ...LIMIT_OPTIONS, ...DATA_OPTIONS } });
  } catch (error) {
    console.error(`nn check: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0 || (values.format !== 'text' && values.format !== 'json')) {
    console.error(USAGE);
    return 2;
  }
  const limits = sizeLimitsOption(values);
  const sources = dataSourcesOption(values);
  if (limits === null || sources === null) return 2;
  let failed = false;
  let unreadableCount = 0;
  const json: JsonDiagnostic[] = [];
  const text: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const file of positionals) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (error) {
      console.error(`nn check: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
      unreadableCount++;
      continue;
    }
    const result = checkProgram(source, { ...fileChecks(dirname(file), { sources }), ...sourceChecks(file) });
    const lines = new LineIndex(source);
    for (const d of [...result.diagnostics, ...sizeLimitDiagnostics(result, limits)]) {
      if (d.severity === 'error') {
        failed = true;
        errors++;
      } else if (d.severity === 'warning') warnings++;
      if (values.format === 'json') json.push(toJson(file, lines, d));
      else text.push(formatText(file, lines, d));
    }
  }
  if (values.format === 'json') console.log(JSON.stringify(json, null, 2));
  else {
    if (text.length > 0) console.log(text.join('\n\n') + '\n');
    const read = positionals.length - unreadableCount;
    console.log(`${read} file(s) checked: ${errors} error(s), ${warnings} warning(s)${unreadableCount > 0 ? `; ${unreadableCount} file(s) could not be read` : ''}`);
  }
  return unreadableCount > 0 ? 2 : failed ? 1 : 0;
}
