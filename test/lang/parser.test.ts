// Parser tests: error recovery, source ranges, lexical rules and deep nesting.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '../../engine/src/lang/parser.js';
import { scan } from '../../engine/src/lang/scanner.js';
import type { Expr, ModelItem, Stmt } from '../../engine/src/lang/syntax.js';

function codes(text: string): string[] {
  return parse(text).errors.map((e) => e.code);
}

function model(text: string): ModelItem {
  const item = parse(text).tree.items.find((i) => i.kind === 'model');
  assert.ok(item && item.kind === 'model');
  return item;
}

test('a broken statement becomes an error value and the following statements still parse', () => {
  const text = 'model M(x: [B, 8]) -> [B, 4] {\n  h = relu(Linear(8, 16) x)\n  return Linear(16, 4)(h)\n}\nmodel N(x: [B]) -> [B] {\n  return x\n}\n';
  const { tree, errors } = parse(text);
  assert.deepEqual(errors.map((e) => [e.code, text.slice(e.range.start, e.range.end)]), [['NN1001', 'x']]);
  assert.equal(tree.items.length, 2);
  const body = (tree.items[0] as ModelItem).body.stmts;
  assert.equal(body[0].kind, 'assign');
  assert.equal((body[0] as Stmt & { kind: 'assign' }).value.kind, 'error');
  assert.equal(body[1].kind, 'return');
});

test('a broken item does not hide the next item', () => {
  const { tree, errors } = parse('model (x) {\n}\nconst k = 3\n');
  assert.equal(errors[0].code, 'NN1001');
  assert.ok(tree.items.some((i) => i.kind === 'const' && i.name.name === 'k'));
});

test('every node range covers exactly its source text', () => {
  const text = 'const n = 4\nmodel M(x: [B, n]) -> [B, 2] {\n  fc = Linear(n, 2)\n  return x |> fc |> relu\n}\n';
  const m = model(text);
  assert.equal(text.slice(m.name.range.start, m.name.range.end), 'M');
  assert.equal(text.slice(m.range.start, m.range.end), text.slice(text.indexOf('model'), text.lastIndexOf('}') + 1));
  const ret = m.body.stmts[1] as Stmt & { kind: 'return' };
  assert.equal(text.slice(ret.values[0].range.start, ret.values[0].range.end), 'x |> fc |> relu');
  const pipe = ret.values[0] as Expr & { kind: 'pipe' };
  assert.equal(text.slice(pipe.stage.range.start, pipe.stage.range.end), 'relu');
  const assign = m.body.stmts[0] as Stmt & { kind: 'assign' };
  assert.equal(text.slice(assign.value.range.start, assign.value.range.end), 'Linear(n, 2)');
});

test('newlines continue a statement inside brackets, after an operator and before a `|>` line', () => {
  const text = 'model M(x: [B, 2]) -> [B, 3] {\n  return x |> Linear(2,\n      3)\n    |> relu\n}\n';
  const { errors } = parse(text);
  assert.deepEqual(errors, []);
  const ret = model(text).body.stmts[0] as Stmt & { kind: 'return' };
  assert.equal(ret.values[0].kind, 'pipe');
  assert.deepEqual(codes('model M(x: [B]) -> [B] {\n  h = x +\n    x\n  return h\n}\n'), []);
});

test('a half-typed line ends where the next line starts a statement: `loss =`, `Adam(lr =`, `relu(`', () => {
  const train = (line: string) => `train M {\n  data = xor()\n  ${line}\n  optimizer = Adam(lr = 0.001)\n  epochs = 3\n}\n`;
  for (const line of ['loss = ', 'optimizer = Adam(lr = ', 'loss = cross_entropy(', 'data = xor(', 'epochs = 1 +']) {
    const text = train(line);
    const { tree, errors } = parse(text);
    const item = tree.items[0];
    assert.ok(item.kind === 'train');
    assert.deepEqual(item.entries.map((e) => e.key.name).slice(-2), ['optimizer', 'epochs'], line);
    assert.equal(text.slice(item.entries.at(-2)!.range.start, item.entries.at(-2)!.range.end), 'optimizer = Adam(lr = 0.001)', line);
    assert.equal(errors.length, 1, `${line}: ${errors.map((e) => e.message).join('; ')}`);
    const lineStart = text.indexOf(`  ${line}\n`) + 2;
    assert.ok(errors[0].range.start >= lineStart && errors[0].range.start <= lineStart + line.length, `${line}: the error is on its line`);
  }
  for (const line of ['y = relu(', 'y = ', 'y = h *', 'y = relu(h,']) {
    const m = model(`model M(x: [B, 2]) -> [B, 2] {\n  h = relu(x)\n  ${line}\n  z = relu(h)\n  return z\n}\n`);
    assert.deepEqual(m.body.stmts.map((s) => s.kind), ['assign', 'assign', 'assign', 'return'], line);
  }
});

test('a newline after `=`, `(` or `,` still continues a value or the keyword arguments of an indented line', () => {
  assert.deepEqual(codes('model M(x: [B, 2]) -> [B, 2] {\n  h =\n    relu(x)\n  c = Conv2d(\n    in_channels = 1, out_channels = 2,\n    kernel_size = 3)\n  return h\n}\n'), []);
  assert.deepEqual(codes('train M {\n  data = npy(\n    x = "a.npy",\n    y = "b.npy")\n  optimizer = Adam(lr =\n    0.001)\n}\n'), []);
});

test('keyword arguments may be spelled like keywords', () => {
  assert.deepEqual(codes('train M {\n  data = fashion_mnist(train = 10,\n    test = 5)\n}\n'), []);
});

test('unterminated strings and brackets are NN1002 at the opening', () => {
  const text = 'train M {\n  data = csv("a.csv, label = "y")\n}\n';
  assert.ok(codes(text).includes('NN1002'));
  const bracket = 'model M(x: [B]) -> [B] {\n  h = relu(x\n  return h\n}\n';
  const { errors } = parse(bracket);
  assert.equal(errors[0].code, 'NN1002');
  assert.equal(bracket.slice(errors[0].range.start, errors[0].range.end), '(');
});

test('comments are trivia tokens with offsets', () => {
  const tokens = scan('x = 1 # one\n');
  const comment = tokens.find((t) => t.kind === 'comment');
  assert.deepEqual(comment && [comment.text, comment.start], ['# one', 6]);
  assert.deepEqual(
    tokens.filter((t) => t.kind !== 'comment').map((t) => t.kind),
    ['name', 'punct', 'number', 'newline', 'eof'],
  );
  assert.deepEqual(scan('1e-3 0.5 "a\\"b"').slice(0, 3).map((t) => t.value ?? t.text), ['1e-3', '0.5', 'a"b']);
});

test('10,000 nested parentheses give a diagnostic, not a stack overflow', () => {
  const deep = `model M(x: [B]) -> [B] {\n  return ${'('.repeat(10000)}x${')'.repeat(10000)}\n}\n`;
  const { errors, tree } = parse(deep);
  assert.deepEqual(errors.map((e) => e.code), ['NN1001']);
  assert.match(errors[0].message, /nested/);
  assert.equal(tree.items.length, 1);
  const chain = `model M(x: [B]) -> [B] {\n  return x${' + x'.repeat(10000)}\n}\n`;
  assert.deepEqual(parse(chain).errors.map((e) => e.code), ['NN1001']);
  const signs = `model M(x: [B]) -> [B] {\n  return ${'-'.repeat(10000)}x\n}\n`;
  assert.deepEqual(parse(signs).errors.map((e) => e.code), ['NN1001']);
});

test('parse errors recover at the next item keyword: one error per mistake, and the next model is still checked', async () => {
  const { checkProgram } = await import('../../engine/src/lang/program.js');
  const next = 'model N(x: [B, 4]) -> [B, 2] {\n  return x |> Linear(4, 3)\n}\n';
  const body = (line: string) => `model M(x: [B, 4]) -> [B, 2] {\n  fc = Linear(4, 2)\n${line}\n  return h\n}\n\n${next}`;
  const cases: [string, string, [string, number][]][] = [
    ['a const cut short before a model', `const hid = 16 +\n${next}`, [['NN1001', 1], ['NN2110', 3]]],
    ['a bracket closed by the wrong closer', body('  h = fc(x]'), [['NN1002', 3], ['NN2110', 8]]],
    ['an extra closing parenthesis', body('  h = fc(x))'), [['NN1001', 3], ['NN2110', 8]]],
    ['a missing closing brace', `model M(x: [B, 4]) -> [B, 2] {\n  return Linear(4, 2)(x)\n\n${next}`, [['NN1002', 1], ['NN2110', 5]]],
  ];
  for (const [what, text, expected] of cases) {
    const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
    const found = checkProgram(text).diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, lineOf(d.range.start)]);
    assert.deepEqual(found, expected, `${what}:\n${text}`);
  }
});

test('a flat chain of operators is not nesting: 1,000 terms check clean, a far longer one is one error and the return stays', async () => {
  const { checkProgram } = await import('../../engine/src/lang/program.js');
  const sum = (n: number) => `model M(x: [B, 4]) -> [B, 4] {\n  return x${' + x'.repeat(n)}\n}\n`;
  assert.deepEqual(checkProgram(sum(1000)).diagnostics.map((d) => d.code), []);
  const pipe = `model M(x: [B, 4]) -> [B, 4] {\n  return x${' |> relu'.repeat(700)}\n}\n`;
  assert.deepEqual(checkProgram(pipe).diagnostics.map((d) => d.code), []);
  const long = checkProgram(sum(100_000)).diagnostics;
  assert.deepEqual(long.map((d) => d.code), ['NN1001']);
  assert.match(long[0].message, /at most \d+ operators and levels in one expression/);
});

test('parentheses with commas are a tuple, `(a,)` one item, `(a)` a grouping, an unclosed tuple NN1002', () => {
  const valueOf = (source: string): Expr => {
    const stmt = model(`model M(x: [B]) -> [B] {\n  y = ${source}\n  return x\n}\n`).body.stmts[0];
    assert.equal(stmt.kind, 'assign');
    return (stmt as Stmt & { kind: 'assign' }).value;
  };
  const pair = valueOf('(0.9, 0.98)');
  assert.equal(pair.kind, 'tuple');
  assert.deepEqual(pair.kind === 'tuple' && pair.items.map((i) => i.kind === 'number' && i.value), [0.9, 0.98]);
  const one = valueOf('(0.9,)');
  assert.equal(one.kind === 'tuple' && one.items.length, 1);
  assert.equal(valueOf('(0.9)').kind, 'paren');
  const nested = valueOf('((1, 2), [3, 4])');
  assert.deepEqual(nested.kind === 'tuple' && nested.items.map((i) => i.kind), ['tuple', 'list']);
  assert.deepEqual(codes('model M(x: [B]) -> [B] {\n  y = (1, 2\n  return x\n}\n'), ['NN1002']);
});

test('a tuple binding takes parenthesized groups of names: `out, (h, c) = lstm(x)`', () => {
  const text = 'model M(x: [B, T, 4]) -> [B, 3] {\n  out, (h, c) = lstm(x)\n  (a, b), d = f(x)\n  return h\n}\n';
  assert.deepEqual(codes(text), []);
  const [first, second] = model(text).body.stmts;
  const shape = (s: Stmt) => (s.kind === 'unpack' ? s.targets.map((t) => (t.kind === 'group' ? t.names.map((n) => n.name) : t.name)) : s.kind);
  assert.deepEqual(shape(first), ['out', ['h', 'c']]);
  assert.deepEqual(shape(second), [['a', 'b'], 'd']);
  const group = first.kind === 'unpack' ? first.targets[1] : null;
  assert.equal(text.slice(group!.range.start, group!.range.end), '(h, c)');
  // A group of one name, or a group alone, is no tuple binding.
  assert.notDeepEqual(codes('model M(x: [B]) -> [B] {\n  out, (h) = lstm(x)\n  return x\n}\n'), []);
  assert.notDeepEqual(codes('model M(x: [B]) -> [B] {\n  (h, c) = lstm(x)\n  return x\n}\n'), []);
});
