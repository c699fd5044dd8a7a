// Property tests: random text and random mutations of the fixtures never make the parser or
// the checker throw, and every reported range lies inside the text.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkProgram } from '../../engine/src/lang/program.js';
import { parse } from '../../engine/src/lang/parser.js';

const fixtureTexts = ['test/fixtures/conformance', 'test/fixtures/cases'].flatMap((folder) => {
  try {
    return readdirSync(folder)
      .filter((n) => n.endsWith('.nn'))
      .map((n) => readFileSync(join(folder, n), 'utf8'));
  } catch {
    return [];
  }
});

const pieces = [
  'model', 'fn', 'grad', 'train', 'const', 'return', 'true', 'false', 'int', 'x', 'h', 'B', 'T', 'Linear', 'Conv2d', 'BatchNorm2d',
  'LayerNorm', 'Embedding', 'relu', 'softmax', 'sum', 'reshape', 'concat', 'param', 'flatten', 'max_pool2d', 'cross_entropy', 'data',
  'spirals', 'npy', '"a"', '"', '(', ')', '[', ']', '{', '}', ',', '=', '->', '|>', '+', '-', '*', '/', '**', '@', ':', ';', '#',
  '*S', '0', '1', '3', '-1', '0.5', '1e-3', '2147483647', '1e308', '\n', ' ', '\t', 'é', '😀',
];

function checkSound(text: string): void {
  const result = checkProgram(text);
  for (const d of result.diagnostics) {
    assert.ok(d.range.start >= 0 && d.range.start <= d.range.end && d.range.end <= text.length, `${d.code} range inside the text`);
    assert.doesNotMatch(d.message, /cannot be analysed/, 'no item trips the internal safety net');
  }
}

test('random token soup never throws', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 120 }), (parts) => {
      checkSound(parts.join(' '));
      checkSound(parts.join(''));
    }),
    { numRuns: 400 },
  );
});

test('random unicode text never throws', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      checkSound(text);
      assert.ok(parse(text).tree.range.end === text.length);
    }),
    { numRuns: 300 },
  );
});

test('random edits of the fixtures never throw', () => {
  const edit = fc.record({
    fixture: fc.nat({ max: Math.max(0, fixtureTexts.length - 1) }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.nat({ max: 12 }),
    insert: fc.array(fc.constantFrom(...pieces), { maxLength: 4 }),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
      let text = fixtureTexts[edits[0].fixture];
      for (const e of edits) {
        const start = Math.floor(e.at * text.length);
        text = text.slice(0, start) + e.insert.join(' ') + text.slice(start + e.length);
      }
      checkSound(text);
    }),
    { numRuns: 400 },
  );
});
