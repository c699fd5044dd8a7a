// The checker's semantic model: every name resolved as the checker resolves it — symbols with
// their definitions (a rebound name has several), references seeing the latest binding before
// them, built-ins, keyword arguments and train keys — and the parser's tokens with comments.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkProgram } from '../../engine/src/lang/program.js';
import type { Occurrence } from '../../engine/src/lang/semantics.js';

const source = `const hidden = 8
# a block
model Block[c](x: [B, c, H, W]) -> [B, c, H, W] {
  conv = Conv2d(c, c, 3, padding = 1)
  return relu(conv(x))
}
model M(x: [B, 2]) -> [B, hidden] {
  h = fc(x)
  fc = Linear(2, hidden)
  W = param([hidden, hidden], init = zeros)
  h = relu(h)
  return h @ W
}
fn f(a: [N]) -> [N] {
  h = exp(a)
  return h
} grad(g) {
  h = g * a
  return h
}
train M { data = spirals(points = 10)
  optimizer = Adam(lr = hidden)
}
`;

const semantics = checkProgram(source, { semantics: true }).semantics!;
const at = (needle: string, nth = 0, delta = 0): Occurrence => {
  let offset = -1;
  for (let i = 0; i <= nth; i++) offset = source.indexOf(needle, offset + 1);
  assert.ok(offset >= 0, needle);
  const o = semantics.occurrenceAt(offset + delta);
  assert.ok(o, `an occurrence at ${needle}`);
  return o;
};
const kindAt = (needle: string, nth = 0, delta = 0) => {
  const o = at(needle, nth, delta);
  return o.role === 'definition' || o.role === 'reference' ? `${o.role} ${semantics.symbol(o.symbol).kind}` : o.role === 'builtin' ? `builtin ${o.builtin}` : o.role;
};

describe('semantic model', () => {
  test('items with their kinds and ranges', () => {
    assert.deepEqual(semantics.items.map((it) => `${it.kind} ${it.name}`), ['const hidden', 'model Block', 'model M', 'fn f', 'train M']);
    assert.equal(source.slice(semantics.items[0].range.start, semantics.items[0].range.end), 'const hidden = 8');
  });

  test('roles: hyper-parameters, inputs, dims, layers, params, bindings, g, keyword arguments, train keys', () => {
    assert.equal(kindAt('c]'), 'definition hyperParam');
    assert.equal(kindAt('x: [B, c'), 'definition input');
    assert.equal(kindAt('H, W]'), 'definition dim');
    assert.equal(kindAt('c, H', 0), 'reference hyperParam');
    assert.equal(kindAt('B, c, H, W] {'), 'reference dim');
    assert.equal(kindAt('padding'), 'keywordArg');
    assert.equal(kindAt('conv ='), 'definition layer');
    assert.equal(kindAt('W = param'), 'definition param');
    assert.equal(kindAt('zeros'), 'builtin init');
    assert.equal(kindAt('Linear'), 'builtin layer');
    assert.equal(kindAt('relu(conv'), 'builtin function');
    assert.equal(kindAt('g) {'), 'definition gradParam');
    assert.equal(kindAt('g * a'), 'reference gradParam');
    assert.equal(kindAt('data'), 'trainKey');
    assert.equal(kindAt('spirals'), 'builtin dataset');
    assert.equal(kindAt('points ='), 'keywordArg');
    assert.equal(kindAt('Adam'), 'builtin optimizer');
    assert.equal(kindAt('hidden)\n}'), 'reference const');
    assert.equal(kindAt('M {'), 'reference model');
  });

  test('a layer is visible before its declaration; a rebound name resolves to the binding visible at the use', () => {
    const fc = at('fc(x)');
    assert.equal(fc.role, 'reference');
    assert.equal(fc.role === 'reference' && fc.definition.start, source.indexOf('fc = Linear'));
    const use = at('relu(h)', 0, 5);
    assert.equal(use.role === 'reference' && use.definition.start, source.indexOf('h = fc(x)'));
    const returned = at('h @ W');
    assert.equal(returned.role === 'reference' && returned.definition.start, source.indexOf('h = relu(h)'));
  });

  test('a rebound name is one symbol; the grad block has its own', () => {
    const h = at('h = fc(x)');
    assert.ok(h.role === 'definition');
    const occurrences = semantics.occurrencesOf(h.symbol);
    assert.equal(occurrences.length, 4, 'two definitions, two uses');
    const forward = at('h = exp');
    const backward = at('h = g');
    assert.ok(forward.role === 'definition' && backward.role === 'definition');
    assert.notEqual(forward.symbol, backward.symbol);
  });

  test('a const is one symbol across items', () => {
    const hidden = at('hidden');
    assert.ok(hidden.role === 'definition');
    assert.equal(semantics.occurrencesOf(hidden.symbol).length, 6);
    assert.equal(semantics.symbol(hidden.symbol).owner, null);
  });

  test('an unknown name is unresolved', () => {
    const text = 'model M(x: [B, 2]) -> [B, 2] {\n  return rleu(x)\n}\n';
    const broken = checkProgram(text, { semantics: true }).semantics!;
    assert.equal(broken.occurrenceAt(text.indexOf('rleu'))?.role, 'unresolved');
  });

  test('the tokens are the parser\'s, comments included', () => {
    assert.ok(semantics.tokens.some((t) => t.kind === 'comment' && t.text === '# a block'));
    assert.ok(!semantics.tokens.some((t) => t.kind === 'newline' || t.kind === 'eof'));
    let at = 0;
    for (const t of semantics.tokens) {
      assert.ok(!/\S/.test(source.slice(at, t.start)), `text between tokens at ${at}`);
      at = t.end;
    }
  });

  test('without the option there is no semantic model', () => {
    assert.equal(checkProgram(source).semantics, undefined);
  });
});
