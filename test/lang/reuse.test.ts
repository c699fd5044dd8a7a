// A re-check that reuses the previous check's trees and items (the server's, lang/reuse.ts and
// reparse.ts) equals a fresh check of the same text: every diagnostic, fact, IR graph, token
// and resolved name, offsets included, over chains of random edits to the conformance
// fixtures, the cases and the checker benchmark's file.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CheckResult } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { CheckReuse } from '../../engine/src/lang/reuse.js';
import { Rng } from '../../engine/src/random.js';
import { generate } from '../../bench/checker/model.js';

/** Everything a check reports, as text: two checks agree when these are equal. */
function serialized(result: CheckResult): string {
  const { diagnostics, bindings, layers, calls, models, fns, trains, semantics } = result;
  const names = semantics && { tokens: semantics.tokens, items: semantics.items, symbols: semantics.symbols, occurrences: semantics.occurrences };
  return JSON.stringify({ diagnostics, bindings, layers, calls, models, fns, trains, irs: [...result.irs], fnIrs: [...result.fnIrs], names });
}

/** A check with the editor's tokens and names, as the server asks for it. */
const check = (text: string, reuse?: CheckReuse) => checkProgram(text, { semantics: true, reuse });

/** Snippets an editing user types: a number, a new line, a whole model, a call, a stray brace. */
const INSERTS = ['1', '\n', ' ', '  h = relu(h)\n', 'model Extra(x: [B, 4]) -> [B, 4] {\n  return relu(x)\n}\n', 'Linear(4, 4)', '}', '# a comment\n', 'const W = 3\n', 'x'];

function randomEdit(text: string, rng: Rng): string {
  const at = rng.int(text.length + 1);
  const kind = rng.uniform(0, 1);
  if (kind < 0.3) return text.slice(0, at) + INSERTS[rng.int(INSERTS.length)] + text.slice(at);
  if (kind < 0.5) return text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + rng.int(12)));
  // Edits that keep the text well formed, so the re-parse keeps the other items' trees: a
  // digit changed or added (a layer's size), a model added after an item.
  const digits = [...text.matchAll(/\d/g)];
  if (kind < 0.9 && digits.length > 0) {
    const d = digits[rng.int(digits.length)].index!;
    return text.slice(0, d) + String(rng.int(10)) + text.slice(kind < 0.7 ? d + 1 : d);
  }
  const ends = [...text.matchAll(/\n}\n/g)];
  if (ends.length === 0) return text;
  const end = ends[rng.int(ends.length)].index! + 3;
  return `${text.slice(0, end)}\nmodel Added${rng.int(1000)}(x: [B, 4]) -> [B, 4] {\n  return relu(x)\n}\n${text.slice(end)}`;
}

const EDITS = 8;

function fixtures(): string[] {
  const root = join(__dirname, '..', 'fixtures');
  return ['conformance', 'cases', 'layers'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.nn'))
      .map((f) => readFileSync(join(root, dir, f), 'utf8')),
  );
}

test('a re-check that reuses items equals a fresh check, over random edits', () => {
  const rng = new Rng(7);
  let reused = 0;
  for (const original of [...fixtures(), generate()]) {
    const reuse = new CheckReuse();
    let text = original;
    check(text, reuse);
    for (let k = 0; k < EDITS; k++) {
      text = randomEdit(text, rng);
      const incremental = check(text, reuse);
      reused += reuse.reused;
      assert.equal(serialized(incremental), serialized(check(text)), `after edit ${k + 1} of a fixture beginning ${JSON.stringify(original.slice(0, 60))}`);
    }
  }
  assert.ok(reused > 100, `the edits reused only ${reused} items`);
});

test('an edit in one model of a long file re-checks that model and reuses the others', () => {
  const text = generate();
  const reuse = new CheckReuse();
  const first = check(text, reuse);
  const at = text.indexOf('fc1 = Linear(16 * 14 * 14, 128)', text.length / 2);
  const edited = `${text.slice(0, at)}fc1 = Linear(16 * 14 * 15, 128)${text.slice(at + 'fc1 = Linear(16 * 14 * 14, 128)'.length)}`;
  const incremental = check(edited, reuse);
  assert.ok(incremental.diagnostics.some((d) => d.code === 'NN2103'), 'the edit breaks a shape');
  // The items before and after the edited one keep their syntax trees.
  const before = first.semantics!.tree.items;
  const after = incremental.semantics!.tree.items;
  assert.equal(after.length, before.length);
  assert.ok(after[0] === before[0] && after[after.length - 1] === before[before.length - 1], 'the untouched items were parsed again');
  assert.equal(serialized(incremental), serialized(check(edited)));
  // Every fn and model but the edited one (and models that fail to check) comes from the first check.
  assert.ok(reuse.reused >= first.models.length + first.fns.length - 3, `${reuse.reused} of ${first.models.length + first.fns.length} items reused`);
  // Typing a line above everything moves every reused offset.
  const moved = `# a new first line\n${edited}`;
  assert.equal(serialized(check(moved, reuse)), serialized(check(moved)));
  assert.ok(reuse.reused > first.models.length / 2);
});
