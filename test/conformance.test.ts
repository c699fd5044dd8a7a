// Runs every `.nn` fixture (test/fixtures/conformance and test/fixtures/cases) through the
// checker: each `#! NNxxxx` annotation must be reported on its line, and no other line may
// get an error or a warning (LANGUAGE.md §11). Data files are read relative to the fixture.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { readDataHeader } from '../engine/src/data/index.js';
import { diagnosticEntry } from '../engine/src/lang/diagnostics.js';
import { LineIndex } from '../engine/src/lang/lines.js';
import { checkProgram } from '../engine/src/lang/program.js';
import { sourceChecks } from '../engine/src/data/sourceFiles.js';

const folders = ['test/fixtures/conformance', 'test/fixtures/cases', 'test/fixtures/layers'];

function fixtures(): string[] {
  return folders.flatMap((folder) => {
    try {
      return readdirSync(folder)
        .filter((name) => name.endsWith('.nn'))
        .sort()
        .map((name) => join(folder, name));
    } catch {
      return [];
    }
  });
}

/** Expected codes per 0-based line, from `#! NN2103 NN4004` comments. */
export function annotations(text: string): Map<number, string[]> {
  const expected = new Map<number, string[]>();
  text.split('\n').forEach((line, k) => {
    const match = /#!\s*((?:NN\d{4}\s*)+)$/.exec(line.trimEnd());
    if (match) expected.set(k, match[1].trim().split(/\s+/));
  });
  return expected;
}

/** Problems of a check against a fixture's annotations; empty when it passes. */
export function mismatches(text: string, diagnostics: { code: string; severity: string; range: { start: number } }[]): string[] {
  const lines = new LineIndex(text);
  const expected = annotations(text);
  const reported = new Map<number, Set<string>>();
  const problems: string[] = [];
  for (const d of diagnostics) {
    const line = lines.lineOf(d.range.start);
    if (!reported.has(line)) reported.set(line, new Set());
    reported.get(line)!.add(d.code);
    if (d.severity !== 'info' && !expected.has(line)) problems.push(`line ${line + 1}: unexpected ${d.severity} ${d.code}`);
  }
  for (const [line, codes] of expected) {
    for (const code of codes) if (!reported.get(line)?.has(code)) problems.push(`line ${line + 1}: expected ${code}, got ${[...(reported.get(line) ?? [])].join(' ') || 'nothing'}`);
  }
  return problems;
}

const all = fixtures();

test('the conformance fixtures are present', () => {
  assert.ok(all.filter((f) => f.includes('/conformance/')).length >= 19);
});

for (const file of all) {
  test(`fixture ${file}`, () => {
    const text = readFileSync(file, 'utf8');
    const result = checkProgram(text, { readDataHeader: readDataHeader(dirname(file)), ...sourceChecks(file) });
    const problems = mismatches(text, result.diagnostics);
    assert.deepEqual(problems, [], `${file}:\n${result.diagnostics.map((d) => `  ${new LineIndex(text).lineOf(d.range.start) + 1}: ${d.code} ${d.message}`).join('\n')}`);
    for (const d of result.diagnostics) assert.equal(d.severity, diagnosticEntry(d.code)?.severity, `${d.code} has its catalogue severity`);
  });
}

test('the fixture runner fails a checker that misses or adds a diagnostic', () => {
  const text = 'model M(x: [B, 3]) -> [B, 5] {\n  W = param([4, 5])\n  return x @ W  #! NN2102\n}\n';
  const at = text.indexOf('x @ W');
  assert.deepEqual(mismatches(text, [{ code: 'NN2102', severity: 'error', range: { start: at } }]), []);
  assert.equal(mismatches(text, []).length, 1);
  assert.equal(mismatches(text, [{ code: 'NN2102', severity: 'error', range: { start: at } }, { code: 'NN2001', severity: 'error', range: { start: 0 } }]).length, 1);
  assert.deepEqual(mismatches(text, [{ code: 'NN2102', severity: 'error', range: { start: at } }, { code: 'NN3103', severity: 'info', range: { start: 0 } }]), []);
});
