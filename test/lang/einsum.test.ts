// The checker on `einsum`: output shapes over symbolic dims (explicit, implicit, `...`), and
// each mistake in an equation reported with its code at the argument it is about.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkProgram } from '../../engine/src/lang/program.js';


/** The shape the checker infers for `h = <call>` in a small model. */
function shapeOf(inputs: string, call: string): string {
  const text = `model M(${inputs}) {\n  h = ${call}\n  return h\n}\n`;
  const result = checkProgram(text);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), [], call);
  return result.bindings.find((b) => b.name === 'h')!.shape;
}

test('einsum infers its output over symbolic dims, explicit, implicit and with `...`', () => {
  const inputs = 'x: [B, T, D], y: [D, E], q: [B, H, T, D], k: [B, H, S, D], v: [E]';
  assert.equal(shapeOf(inputs, 'einsum("btd,de->bte", x, y)'), '[B, T, E]');
  assert.equal(shapeOf(inputs, 'einsum("bhqd,bhkd->bhqk", q, k)'), '[B, H, T, S]');
  assert.equal(shapeOf(inputs, 'einsum("btd->dbt", x)'), '[D, B, T]');
  assert.equal(shapeOf(inputs, 'einsum("btd,de", x, y)'), '[B, E, T]');
  // Implicit: the letters used once, in alphabetical order (uppercase first, as PyTorch).
  assert.equal(shapeOf(inputs, 'einsum("tbd,dA", x, y)'), '[E, T, B]');
  assert.equal(shapeOf(inputs, 'einsum("...d,de->...e", x, y)'), '[B, T, E]');
  assert.equal(shapeOf(inputs, 'einsum("b...d,d->b...", q, x[0, 0])'), '[B, H, T]');
  assert.equal(shapeOf(inputs, 'einsum("...d,de", q, y)'), '[B, H, T, E]');
  assert.equal(shapeOf(inputs, 'einsum("i,j->ij", v, v)'), '[E, E]');
  assert.equal(shapeOf(inputs, 'einsum("btd->", x)'), '[]');
  assert.equal(shapeOf(inputs, 'einsum(" b t d , d e -> b e ", x, y)'), '[B, E]');
  assert.equal(shapeOf(inputs, 'einsum(equation = "de,e->d", y, v)'), '[D]');
});

/** The one error of the call, with the text its range covers. */
function errorOf(inputs: string, call: string): { code: string; message: string; at: string } {
  const text = `model M(${inputs}) {\n  h = ${call}\n  return h\n}\n`;
  const errors = checkProgram(text).diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 1, `${call}: ${JSON.stringify(errors.map((d) => d.message))}`);
  const [d] = errors;
  return { code: d.code, message: d.message, at: text.slice(d.range.start, d.range.end) };
}

test('einsum mistakes are coded and reported at the argument they are about', () => {
  const inputs = 'x: [B, T, D], y: [D, E], z: [B, T], w: [2, D]';
  const cases: [string, string, string, string][] = [
    ['einsum("bt$,de->bte", x, y)', 'NN2170', '"bt$,de->bte"', 'the einsum equation "bt$,de->bte" is malformed: `$` is not a letter (terms are letters a-z, A-Z, with one `...` at most)'],
    ['einsum("ab->b->a", z)', 'NN2170', '"ab->b->a"', 'the einsum equation "ab->b->a" is malformed: `->` appears more than once'],
    ['einsum("b.t", z)', 'NN2170', '"b.t"', 'the einsum equation "b.t" is malformed: a `.` outside `...`'],
    ['einsum("...t...", z)', 'NN2170', '"...t..."', 'the einsum equation "...t..." is malformed: the term `...t...` has two `...`'],
    ['einsum("bt->tt", z)', 'NN2170', '"bt->tt"', 'the einsum equation "bt->tt" is malformed: the output repeats `t`'],
    ['einsum("...t->t", z)', 'NN2170', '"...t->t"', 'the einsum equation "...t->t" is malformed: an input term has `...`, so the output must keep it'],
    ['einsum("bt->...b", z)', 'NN2170', '"bt->...b"', 'the einsum equation "bt->...b" is malformed: the output has `...` but no input term has'],
    ['einsum("btd,de->bte", x)', 'NN2171', '"btd,de->bte"', 'the einsum equation "btd,de->bte" has 2 input term(s), but 1 operand(s) are given'],
    ['einsum("bt,de->bte", x, y)', 'NN2172', 'x', 'the einsum term `bt` names 2 axes, but `x` has shape [B, T, D]'],
    ['einsum("...btde", z)', 'NN2172', 'z', 'the einsum term `...btde` names at least 4 axes, but `z` has shape [B, T]'],
    ['einsum("btd,te->bde", x, y)', 'NN2173', 'y', 'the einsum letter `t` is T in `x` but D in `y`'],
    ['einsum("btd,de->btf", x, y)', 'NN2174', '"btd,de->btf"', 'the output letter `f` of the einsum equation "btd,de->btf" is in no input term'],
    ['einsum("bb->b", z)', 'NN2175', '"bb->b"', 'the einsum term `bb` repeats `b`: diagonals and traces (`ii->i`) are not supported'],
    ['einsum("...d,...d->...", x, w)', 'NN2101', 'w', ''],
    ['einsum(x, y)', 'NN2003', 'einsum(x, y)', '`einsum` is missing `equation`'],
    ['einsum(2, x)', 'NN2003', '2', '`einsum`: `equation` must be a string, got 2'],
  ];
  for (const [call, code, at, message] of cases) {
    const found = errorOf(inputs, call);
    assert.equal(found.code, code, call);
    assert.equal(found.at, at, call);
    if (message) assert.equal(found.message, message, call);
  }
});

test('an unknown operand shape leaves the einsum unknown, with no follow-on error', () => {
  const text = 'model M(x: [B, T, D]) {\n  h = einsum("btd->b", undefined_name)\n  return h\n}\n';
  const codes = checkProgram(text).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
  assert.deepEqual(codes, ['NN2001']);
});
