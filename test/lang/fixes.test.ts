// The did-you-mean suggestions: edit distance with swaps, a closeness limit that grows with
// the name, and the checker offering them where a name, layer, keyword argument, init or
// train key or value (data set, loss, optimizer, schedule) is unknown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName, editDistance } from '../../engine/src/lang/fixes.js';
import { checkProgram } from '../../engine/src/lang/program.js';

test('edit distance counts a swap of neighbours as one edit and a case change as half', () => {
  assert.equal(editDistance('Linera', 'Linear'), 1);
  assert.equal(editDistance('rleu', 'relu'), 1);
  assert.equal(editDistance('linear', 'Linear'), 0.5);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('the closest name within about one edit per three letters, or none', () => {
  assert.equal(closestName('rleu', ['relu', 'gelu', 'silu']), 'relu');
  assert.equal(closestName('Linera', ['Linear', 'LayerNorm']), 'Linear');
  assert.equal(closestName('epocs', ['epochs', 'batch']), 'epochs');
  assert.equal(closestName('xyz', ['relu', 'tanh']), null);
  assert.equal(closestName('fc', ['fc1', 'fc2']), 'fc1', 'the first of equally close names');
});

test('the checker offers the fix where the unknown name is', () => {
  const text = 'model M(x: [B, 2]) -> [B, 2] {\n  W = param([2, 2], init = zros)\n  return relu(x @ W) |> sigmod\n}\n';
  const result = checkProgram(text);
  const fixes = result.diagnostics.flatMap((d) => d.fixes.map((f) => `${d.code} ${f.title} @${text.slice(f.edits[0].range.start, f.edits[0].range.end)}`));
  assert.deepEqual(fixes, ['NN2015 Change to `zeros` @zros', 'NN2001 Change to `sigmoid` @sigmod']);
});

test('a train block\'s misspelt data set, loss, optimizer and schedule are offered the one meant, and the fixed block checks', () => {
  const text = 'model M(x: [B, 2]) -> [B, 2] {\n  return x |> Linear(2, 2)\n}\ntrain M {\n  data = xro()\n  loss = cross_entopy\n  optimizer = Adma(lr = 0.1)\n  schedule = cosin\n  epochs = 2\n}\n';
  const result = checkProgram(text);
  const fixes = result.diagnostics.flatMap((d) => d.fixes.map((f) => ({ title: `${d.code} ${f.title} @${text.slice(f.edits[0].range.start, f.edits[0].range.end)}`, edit: f.edits[0] })));
  assert.deepEqual(fixes.map((f) => f.title), ['NN4002 Change to `xor` @xro', 'NN4002 Change to `cross_entropy` @cross_entopy', 'NN4002 Change to `Adam` @Adma', 'NN4002 Change to `cosine` @cosin']);
  let fixed = text;
  for (const { edit } of [...fixes].sort((a, b) => b.edit.range.start - a.edit.range.start)) fixed = fixed.slice(0, edit.range.start) + edit.newText + fixed.slice(edit.range.end);
  assert.deepEqual(checkProgram(fixed).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
});
