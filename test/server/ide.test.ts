// Unit tests of the editor's plain-data layer that need no checker: name resolution over
// tokens, the formatter's invariants, settings parsing, the workspace boundary and the
// FLOP-count evaluation behind the init-time pass's budget.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatText } from '../../server/src/ide/formatter.js';
import { definitionOf, indexNames, occurrenceAt, occurrencesOf, symbolOf } from '../../server/src/ide/names.js';
import { tokenize } from '../../server/src/ide/syntax.js';
import { symbolicAt } from '../../server/src/lsp/runs.js';
import { readSettings } from '../../server/src/lsp/settings.js';
import { writablePath } from '../../server/src/lsp/workspace.js';

const source = `const hidden = 8
model Block[c](x: [B, c, H, W]) -> [B, c, H, W] {
  conv = Conv2d(c, c, 3, padding = 1)
  return relu(conv(x))
}
model M(x: [B, 2]) -> [B, hidden] {
  fc = Linear(2, hidden)
  h = fc(x)
  h = relu(h)
  return h
}
train M { data = xor() }
`;

function index(text: string) {
  return indexNames(tokenize(text).filter((t) => t.kind !== 'comment'), text);
}

describe('names', () => {
  const names = index(source);
  const at = (needle: string, nth = 0, delta = 0) => {
    let offset = -1;
    for (let i = 0; i <= nth; i++) offset = source.indexOf(needle, offset + 1);
    return occurrenceAt(names, offset + delta)!;
  };

  test('items with their kinds and ranges', () => {
    assert.deepEqual(names.items.map((it) => `${it.kind} ${it.name}`), ['const hidden', 'model Block', 'model M', 'train M']);
    assert.equal(source.slice(names.items[0].range.start, names.items[0].range.end), 'const hidden = 8');
    assert.ok(source.slice(names.items[2].range.start, names.items[2].range.end).endsWith('return h\n}'));
  });

  test('roles: hyper-parameters, inputs, dims, bindings, keyword arguments, train keys', () => {
    assert.equal(at('c]').role, 'hyperParam');
    assert.equal(at('x: [B, c').role, 'input');
    assert.equal(at('H, W]').role, 'dim');
    assert.equal(at('c, H', 0).role, 'reference');
    assert.equal(at('padding').role, 'keywordArg');
    assert.equal(at('data').role, 'trainKey');
    assert.equal(at('fc =').role, 'binding');
  });

  test('a rebound name resolves to the binding visible at the use', () => {
    const use = at('relu(h)', 0, 5);
    assert.equal(definitionOf(names, use)?.start, source.indexOf('h = fc(x)'));
    const returned = at('return h', 0, 7);
    assert.equal(definitionOf(names, returned)?.start, source.indexOf('h = relu(h)'));
  });

  test('a const is one symbol across items; built-ins have none', () => {
    const symbol = symbolOf(names, at('hidden'))!;
    assert.deepEqual(symbol, { scope: -1, name: 'hidden' });
    assert.equal(occurrencesOf(names, symbol).length, 3);
    assert.equal(symbolOf(names, at('relu')), null);
  });
});

describe('formatter', () => {
  test('refuses to touch text it cannot tokenize fully', () => {
    const text = 'model M(x: [B, 2]) -> [B, 2] {\n  return x $ x\n}\n';
    const formatted = formatText(text, tokenize(text));
    assert.ok(formatted === null || formatted.replace(/\s+/g, '') === text.replace(/\s+/g, ''));
  });

  test('keeps Windows line ends', () => {
    const text = 'const a=1 # one\r\n\r\n\r\nconst b=2\r\n';
    assert.equal(formatText(text, tokenize(text)), 'const a = 1  # one\r\n\r\nconst b = 2\r\n');
  });

  test('keeps comments, collapses blank lines, ends with one newline', () => {
    const text = '\n\n# lead\nconst a = 1   # trailing\n\n\n\nconst b = 2';
    assert.equal(formatText(text, tokenize(text)), '# lead\nconst a = 1  # trailing\n\nconst b = 2\n');
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
    assert.equal(symbolicAt('2359296*B', 16), 2359296 * 16);
    assert.equal(symbolicAt('4*B*T + 10', 2), 4 * 2 * 2 + 10);
    assert.equal(symbolicAt('0', 16), 0);
  });
});
