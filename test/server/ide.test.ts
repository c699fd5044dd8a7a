// Unit tests of the editor's plain-data layer: the formatter on the parser's tokens and tree
// (broken items left alone, blocks split, comment columns kept), settings parsing, the
// workspace boundary and the FLOP-count evaluation behind the init-time pass's budget.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dim } from '../../engine/src/shape/dim.js';
import { parse } from '../../engine/src/lang/parser.js';
import { formatText } from '../../server/src/ide/formatter.js';
import { countAt } from '../../server/src/lsp/runs.js';
import { readSettings } from '../../server/src/lsp/settings.js';
import { writablePath } from '../../server/src/lsp/workspace.js';

function format(text: string): string | null {
  const { tree, tokens, errors } = parse(text, { tokens: true });
  return formatText(text, tokens!.tokens(), tree, errors.map((e) => e.range.start));
}

describe('formatter', () => {
  test('refuses to touch text it cannot tokenize fully, or keeps it', () => {
    const text = 'model M(x: [B, 2]) -> [B, 2] {\n  return x $ x\n}\n';
    const formatted = format(text);
    assert.ok(formatted === null || formatted.replace(/\s+/g, '') === text.replace(/\s+/g, ''));
  });

  test('keeps Windows line ends', () => {
    assert.equal(format('const a=1 # one\r\n\r\n\r\nconst b=2\r\n'), 'const a = 1  # one\r\n\r\nconst b = 2\r\n');
  });

  test('keeps comments, collapses blank lines, ends with one newline', () => {
    assert.equal(format('\n\n# lead\nconst a = 1   # trailing\n\n\n\nconst b = 2'), '# lead\nconst a = 1  # trailing\n\nconst b = 2\n');
  });

  test('an unclosed bracket leaves its item as it is and re-indents nothing after it', () => {
    const text = [
      'model A(x: [B, 2]) -> [B, 2] {',
      '  h = relu(x',
      '     h = relu(h)',
      '  return h',
      '}',
      '',
      'model C(x: [B, 2]) -> [B, 2] {',
      '      return   relu(x)',
      '}',
      '',
    ].join('\n');
    const formatted = format(text)!;
    const lines = formatted.split('\n');
    assert.deepEqual(lines.slice(0, 5), text.split('\n').slice(0, 5), 'the broken item is kept');
    assert.equal(lines[7], '  return relu(x)', 'the next item is laid out as if nothing were wrong');
    assert.equal(format(formatted), formatted);
  });

  test('a block spanning lines gets its braces on lines of their own: `return h }` is split', () => {
    const text = 'model M(x: [B, 2]) -> [B, 2] { h = relu(x)\n  return h }\ntrain M { data = xor() }\n';
    assert.equal(format(text), 'model M(x: [B, 2]) -> [B, 2] {\n  h = relu(x)\n  return h\n}\n\ntrain M { data = xor() }\n');
  });

  test('trailing comments of a run of lines share one column, lines without one in between included', () => {
    const text = [
      'model M(x: [B, 2]) -> [B, 2] {',
      '  a = relu(x)   # first',
      '  bb = relu(a)',
      '  c = relu(bb) # third',
      '',
      '  return c # alone',
      '}',
      '',
    ].join('\n');
    const formatted = format(text)!;
    const lines = formatted.split('\n');
    assert.equal(lines[1].indexOf('#'), lines[3].indexOf('#'), formatted);
    assert.equal(lines[1].indexOf('#'), '  bb = relu(a)'.length + 2);
    assert.equal(lines[5], '  return c  # alone', 'a blank line starts a new run');
    assert.equal(format(formatted), formatted);
  });

  test('statements continued on later lines are indented four more', () => {
    const text = 'model M(x: [B, 2]) -> [B, 2] {\n  h = x\n|> relu\n  return h +\n1\n}\n';
    assert.equal(format(text), 'model M(x: [B, 2]) -> [B, 2] {\n  h = x\n      |> relu\n  return h +\n      1\n}\n');
  });
});

describe('settings and the workspace boundary', () => {
  test('malformed settings fall back to defaults', () => {
    const s = readSettings({ backend: 'gpu', threads: -3, inlayHints: { shapes: false }, maxNumberOfProblems: 'many' });
    assert.equal(s.backend, 'auto');
    assert.equal(s.threads, 0);
    assert.deepEqual(s.inlayHints, { shapes: false, gradients: true });
    assert.equal(s.maxNumberOfProblems, 100);
  });

  test('paths are resolved against the document and must stay inside a workspace folder', () => {
    assert.deepEqual(writablePath(['/ws'], '/ws/models/a.nn', 'runs/a'), { path: '/ws/models/runs/a' });
    assert.ok('error' in writablePath(['/ws'], '/ws/models/a.nn', '../../out'));
    assert.ok('error' in writablePath(['/ws'], '/ws/a.nn', '/tmp/x'));
    assert.ok('error' in writablePath(['/ws'], '/ws/a.nn', '../ws2/x'));
  });

  test('symbolic FLOP counts evaluate at a batch size', () => {
    const B = Dim.named('B');
    const T = Dim.named('T');
    assert.equal(countAt(B.scale(2359296), 16), 2359296 * 16);
    assert.equal(countAt(B.mul(T).scale(4).add(10), 2), 4 * 2 * 2 + 10);
    assert.equal(countAt(Dim.of(0), 16), 0);
    assert.equal(countAt(null, 16), Infinity);
  });
});
