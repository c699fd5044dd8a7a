// Checker tests: messages, related information, fixes that re-check clean, the IR the back
// ends lower (ops, attributes, parameters), state_dict names and the per-binding facts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { CheckResult, Diagnostic } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { Dim, formatShape } from '../../engine/src/shape/dim.js';

const fixture = (name: string) => readFileSync(`test/fixtures/conformance/${name}`, 'utf8');

function only(result: CheckResult, code: string): Diagnostic {
  const found = result.diagnostics.filter((d) => d.code === code);
  assert.equal(found.length, 1, `one ${code} in ${JSON.stringify(result.diagnostics.map((d) => d.code))}`);
  return found[0];
}

function applyFix(text: string, d: Diagnostic): string {
  assert.ok(d.fixes.length > 0, `${d.code} has a fix`);
  const edits = [...d.fixes[0].edits].sort((a, b) => b.range.start - a.range.start);
  return edits.reduce((t, e) => t.slice(0, e.range.start) + e.newText + t.slice(e.range.end), text);
}

function problems(result: CheckResult): string[] {
  return result.diagnostics.filter((d) => d.severity !== 'info').map((d) => `${d.code} ${d.message}`);
}

/** The check of a program that must have no problems, with each binding's shape by name. */
function checkedClean(text: string): { result: CheckResult; shapes: Record<string, string> } {
  const result = checkProgram(text);
  assert.deepEqual(problems(result), []);
  return { result, shapes: Object.fromEntries(result.bindings.map((b) => [b.name, b.shape])) };
}

test('NN2103 reads like the language design, with related information at the constructor argument', () => {
  const text = fixture('err_linear_features.nn');
  const d = only(checkProgram(text), 'NN2103');
  assert.equal(d.message, 'Linear expects input features 4608, but `h` has shape [B, 9216] (flatten of [B, 64, 12, 12])');
  assert.equal(text.slice(d.range.start, d.range.end), 'fc1(h)');
  assert.equal(text.slice(d.related[0].range.start, d.related[0].range.end), '4608');
});

for (const [name, code] of [
  ['err_linear_features.nn', 'NN2103'],
  ['err_conv_channels.nn', 'NN2104'],
  ['err_grad_shape.nn', 'NN3002'],
  ['warn_softmax_ce.nn', 'NN3102'],
] as const) {
  test(`the ${code} fix of ${name} gives a clean re-check`, () => {
    const text = fixture(name);
    const fixed = applyFix(text, only(checkProgram(text), code));
    assert.deepEqual(problems(checkProgram(fixed)), []);
  });
}

test('the NN3002 fix sums over the broadcast batch axis', () => {
  const text = fixture('err_grad_shape.nn');
  const d = only(checkProgram(text), 'NN3002');
  assert.equal(d.fixes[0].edits[0].newText, 'sum(g, 0)');
  assert.match(d.message, /gradient for `b` has shape \[B, O\] but `b` has shape \[O\]/);
  assert.equal(text.slice(d.related[0].range.start, d.related[0].range.end), 'b: [O]');
});

test('the IR of the MNIST network: ops, attributes, parameters and shapes in order', () => {
  const ir = checkProgram(fixture('ok_cnn.nn')).irs.get('Net');
  assert.ok(ir);
  const g = ir.graph;
  assert.deepEqual(g.nodes.map((n) => n.op), ['conv2d', 'relu', 'conv2d', 'relu', 'max_pool2d', 'flatten', 'linear', 'relu', 'dropout', 'linear']);
  assert.deepEqual(g.nodes.map((n) => formatShape(g.values[n.outputs[0]].shape)).slice(-4), ['[B, 128]', '[B, 128]', '[B, 128]', '[B, 10]']);
  const pair = (n: number) => [Dim.of(n), Dim.of(n)];
  assert.deepEqual(g.nodes[0].attrs, { stride: pair(1), padding: pair(0), dilation: pair(1), groups: Dim.of(1) });
  assert.deepEqual(g.nodes[4].attrs, { k: pair(2), stride: pair(2), padding: pair(0) });
  assert.deepEqual(g.nodes[8].attrs, { p: 0.25 });
  assert.deepEqual(g.layers.map((l) => [l.name, l.ctor]), [['conv1', 'Conv2d'], ['conv2', 'Conv2d'], ['fc1', 'Linear'], ['fc2', 'Linear']]);
  assert.equal(g.nodes[6].layer, 'fc1');
  assert.deepEqual(g.nodes[6].inputs.slice(1), g.params.filter((p) => p.param.layer === 'fc1').map((p) => p.value));
  assert.deepEqual(ir.params.map((p) => [p.name, p.shape]), [
    ['conv1.weight', [32, 1, 3, 3]],
    ['conv1.bias', [32]],
    ['conv2.weight', [64, 32, 3, 3]],
    ['conv2.bias', [64]],
    ['fc1.weight', [128, 9216]],
    ['fc1.bias', [128]],
    ['fc2.weight', [10, 128]],
    ['fc2.bias', [10]],
  ]);
  assert.deepEqual(ir.params[4].init, { kind: 'kaiming_uniform', fanIn: 9216 });
  assert.equal(g.output, g.nodes[9].outputs[0]);
  assert.deepEqual(g.inputs, [0]);
});

test('blocks are inlined with prefixed state_dict names; anonymous layers are counted per kind', () => {
  const block = checkProgram(fixture('ok_block.nn'));
  const names = block.irs.get('ResNetTiny')!.params.map((p) => p.name);
  assert.ok(names.includes('res1.conv1.weight') && names.includes('res2.conv2.bias'));
  assert.equal(block.irs.has('Residual'), false, 'a model with hyper-parameters has no IR of its own');
  const res1 = block.layers.find((l) => l.model === 'ResNetTiny' && l.name === 'res1')!;
  assert.equal(res1.paramCount, 2 * (16 * 16 * 9 + 16));
  assert.deepEqual(res1.args, { c: 16 });
  const mlp = checkProgram(fixture('ok_mlp.nn')).irs.get('Mlp')!;
  assert.deepEqual(mlp.params.map((p) => p.name), ['linear_0.weight', 'linear_0.bias', 'linear_1.weight', 'linear_1.bias', 'linear_2.weight', 'linear_2.bias']);
  const text = 'model M(x: [B, 1, 8, 8]) -> [B, 2] {\n  h = x |> Conv2d(1, 2, 3) |> relu\n  h = Conv2d(2, 2, 3)(h)\n  return Linear(32, 2)(flatten(h, 1))\n}\n';
  assert.deepEqual(checkProgram(text).irs.get('M')!.params.map((p) => p.name), ['conv2d_0.weight', 'conv2d_0.bias', 'conv2d_1.weight', 'conv2d_1.bias', 'linear_0.weight', 'linear_0.bias']);
});

test('fns keep a call_fn node, a forward graph and the grad block graph', () => {
  const result = checkProgram(fixture('ok_custom_grad.nn'));
  const tiny = result.irs.get('Tiny')!;
  assert.deepEqual(tiny.graph.nodes.map((n) => [n.op, n.op === 'call_fn' ? n.attrs.fn : '']), [['call_fn', 'my_linear'], ['call_fn', 'swish'], ['linear', '']]);
  const myLinear = result.fnIrs.get('my_linear')!;
  assert.equal(myLinear.forward.inputs.length, 3);
  assert.deepEqual(myLinear.backward!.gradOutputs.map((id) => formatShape(myLinear.backward!.graph.values[id].shape)), ['[B, I]', '[O, I]', '[O]']);
  assert.deepEqual(result.fns.find((f) => f.name === 'swish')!.gradShapes, ['[*S]']);
  const call = result.calls.find((c) => c.callee === 'swish')!;
  assert.deepEqual([call.inShapes, call.outShape], [['[B, 8]'], '[B, 8]']);
});

test('bindings carry shapes, gradient shapes and hint offsets; detach and int ids stop gradients', () => {
  const text = 'model M(tokens: int[B, T], x: [B, 4]) -> [B, 4] {\n  emb = Embedding(50, 4)\n  e = mean(emb(tokens), 1)\n  d = detach(x * 2)\n  return e + d\n}\n';
  const result = checkProgram(text);
  assert.deepEqual(problems(result), []);
  const byName = new Map(result.bindings.map((b) => [b.name, b]));
  assert.deepEqual([byName.get('e')!.shape, byName.get('e')!.gradShape], ['[B, 4]', '[B, 4]']);
  assert.deepEqual([byName.get('d')!.shape, byName.get('d')!.gradShape], ['[B, 4]', '[B, 4]']);
  assert.equal(text.slice(byName.get('e')!.hintOffset - 3, byName.get('e')!.hintOffset), ', 1)'.slice(1));
  const ir = result.irs.get('M')!;
  assert.equal(ir.graph.values[ir.graph.inputs[0]].dtype, 'int64');
});

test('a layer cut off by detach receives no gradient (NN3101 at its declaration)', () => {
  const text = 'model M(x: [B, 4]) -> [B, 4] {\n  fc = Linear(4, 4)\n  return detach(fc(x)) + x\n}\n';
  const d = only(checkProgram(text), 'NN3101');
  assert.equal(text.slice(d.range.start, d.range.end), 'fc = Linear(4, 4)');
});

test('symbolic dims: a model is checked once for every batch size and variadic fns bind *S', () => {
  const text = 'fn double(x: [*S]) -> [*S] {\n  return x + x\n}\nmodel M(x: [B, T, 8]) -> [B, T, 8] {\n  h = reshape(x, [B * T, 8])\n  return reshape(double(h), [B, T, 8])\n}\n';
  const result = checkProgram(text);
  assert.deepEqual(problems(result), []);
  const reshapes = result.irs.get('M')!.graph.nodes.filter((n) => n.op === 'reshape');
  assert.deepEqual(reshapes.map((n) => (n.op === 'reshape' ? formatShape(n.attrs.shape) : '')), ['[B*T, 8]', '[B, T, 8]']);
});

test('lints: stacked linear layers (info) and a saturating sigmoid chain (warning)', () => {
  const stacked = checkProgram('model M(x: [B, 4]) -> [B, 2] {\n  return x |> Linear(4, 8) |> Linear(8, 2)\n}\n');
  assert.equal(only(stacked, 'NN3103').severity, 'info');
  const chain = checkProgram(`model M(x: [B, 4]) -> [B, 4] {\n  return x${' |> sigmoid'.repeat(5)}\n}\n`);
  assert.match(only(chain, 'NN3104').message, /5 saturating activations/);
  assert.equal(checkProgram(`model M(x: [B, 4]) -> [B, 4] {\n  return x${' |> sigmoid'.repeat(4)}\n}\n`).diagnostics.length, 0);
});

test('one mistake gives one error: shapes after an error take the shape the op would have produced', () => {
  const text = 'model M(x: [B, 8]) -> [B, 2] {\n  h = Linear(6, 4)(x)\n  h = Linear(4, 3)(h)\n  return Linear(3, 2)(relu(h))\n}\n';
  assert.deepEqual(problems(checkProgram(text)).map((p) => p.slice(0, 6)), ['NN2103']);
});

test('train blocks produce the TrainIR with defaults, and file data sets go through the reader', () => {
  const result = checkProgram(fixture('ok_lenet.nn'));
  assert.deepEqual(result.trains[0].optimizer, { kind: 'SGD', lr: 0.05, momentum: 0.9, weightDecay: 0 });
  assert.deepEqual([result.trains[0].loss, result.trains[0].seed, result.trains[0].save], ['cross_entropy', 0, 'runs/LeNet']);
  const text = 'model M(x: [B, 4]) -> [B, 3] {\n  return Linear(4, 3)(x)\n}\ntrain M {\n  data = npy(x = "x.npy", y = "y.npy")\n}\n';
  const read = checkProgram(text, { readDataHeader: () => ({ sampleShape: [5], classes: 3, labelShape: [] }) });
  assert.deepEqual(read.diagnostics.map((d) => d.code), ['NN4003']);
  const missing = checkProgram(text, { readDataHeader: () => ({ error: 'no such file' }) });
  assert.deepEqual(missing.diagnostics.map((d) => d.code), ['NN4005']);
  const escaping = checkProgram(text.replace('"x.npy"', '"../x.npy"'));
  assert.deepEqual(escaping.diagnostics.map((d) => d.code), ['NN4006']);
});

test('a norm layer of the wrong size points at its declared size, with a fix that re-checks clean', () => {
  for (const [ctor, input] of [['LayerNorm', '[B, 3, 5]'], ['BatchNorm1d', '[B, 5, 3]']]) {
    const text = `model M(x: ${input}) -> ${input} {\n  n = ${ctor}(4)\n  return n(x)\n}\n`;
    const d = only(checkProgram(text), 'NN2111');
    assert.equal(text.slice(d.range.start, d.range.end), 'n(x)');
    assert.equal(text.slice(d.related[0].range.start, d.related[0].range.end), '4', ctor);
    assert.deepEqual(problems(checkProgram(applyFix(text, d))), [], ctor);
  }
});

test('subscripts keep shapes symbolic; tuple bindings take the pieces', () => {
  const text = [
    'model M(x: [B, T, 2*D], ids: int[B, T]) -> [B, D] {',
    '  a, b = chunk(x, 2, dim = -1)',
    '  p, q = split(x, [1, T - 1], dim = 1)',
    '  head = x[:, :T-1]',
    '  tail = x[..., -D:]',
    '  every = x[:, ::2, 0]',
    '  first = ids[:, 0]',
    '  m = (a > 0)',
    '  second = chunk(x, 2, dim = -1)[-1]',
    '  return a[:, -1] * m[:, 0] + second[:, 0]',
    '}',
    '',
  ].join('\n');
  const result = checkProgram(text);
  assert.deepEqual(problems(result), []);
  const byName = new Map(result.bindings.map((b) => [b.name, b]));
  const shapes = Object.fromEntries(['a', 'b', 'p', 'q', 'head', 'tail', 'every', 'first', 'second'].map((n) => [n, byName.get(n)!.shape]));
  assert.deepEqual(shapes, {
    a: '[B, T, D]', b: '[B, T, D]', p: '[B, 1, 2*D]', q: '[B, T - 1, 2*D]', head: '[B, T - 1, 2*D]',
    tail: '[B, T, D]', every: '[B, (T - 1) // 2 + 1]', first: '[B]', second: '[B, T, D]',
  });
  assert.equal(byName.get('a')!.gradShape, '[B, T, D]');
  const ir = result.irs.get('M')!.graph;
  const subscripts = ir.nodes.filter((n) => n.op === 'subscript');
  assert.deepEqual(subscripts.map((n) => (n.op === 'subscript' ? n.attrs.items : '')), [':,:e', '...,s:', ':,::2,i', ':,i', ':,i', ':,i', ':,i']);
  assert.equal(ir.values[subscripts[3].outputs[0]].dtype, 'int64');
  const pieces = ir.nodes.filter((n) => n.op === 'chunk');
  assert.deepEqual(pieces.map((n) => (n.op === 'chunk' ? n.attrs.part : -1)), [0, 1, 0, 1]);
});

test('the axis ops keep shapes symbolic, and their errors point at the argument', () => {
  const text = [
    'model M(x: [B, T, D], y: [B, T, D], v: [1, D]) -> [B, D, T] {',
    '  a = unsqueeze(x, dim = 1)',
    '  s = squeeze(a, -3)',
    '  p = permute(s, [0, -1, 1])',
    '  st = stack(x, y, dim = -1)',
    '  st2 = stack([x, y, x])',
    '  e = expand(v, [3, T, -1])',
    '  r = repeat(v, [2, 1, 3])',
    '  return p',
    '}',
    '',
  ].join('\n');
  const { shapes } = checkedClean(text);
  assert.deepEqual(shapes, { a: '[B, 1, T, D]', s: '[B, T, D]', p: '[B, D, T]', st: '[B, T, D, 2]', st2: '[3, B, T, D]', e: '[3, T, D]', r: '[2, 1, 3*D]' });
  const errors: [string, string, string][] = [
    ['squeeze(x, dim = 2)', 'NN2150', 'dim = 2'],
    ['permute(x, [0, 0, 1])', 'NN2151', '[0, 0, 1]'],
    ['stack(x, v)', 'NN2152', 'x, v'],
    ['expand(x, [B, 4, -1])', 'NN2154', '[B, 4, -1]'],
    ['repeat(x, [2, 2])', 'NN2153', '[2, 2]'],
    ['unsqueeze(x, -5)', 'NN2109', '-5'],
  ];
  for (const [call, code, at] of errors) {
    const source = `model M(x: [B, T, D], v: [1, D]) -> [B, T, D] {\n  h = ${call}\n  return x\n}\n`;
    const d = only(checkProgram(source), code);
    assert.equal(source.slice(d.range.start, d.range.end), at, call);
  }
  assert.equal(only(checkProgram('model M(x: [B, T, D]) -> [B, D] {\n  return squeeze(x, 1)\n}\n'), 'NN2150').message, 'axis 1 of [B, T, D] has size T, not known to be 1: `squeeze` removes only an axis of size 1');
  assert.equal(only(checkProgram('model M(x: [B, 4]) -> [B, 4] {\n  h = stack([])\n  return x\n}\n'), 'NN2003').message, '`stack`: `tensors` must be at least one tensor, got []');
  assert.equal(only(checkProgram('const K = "abc"\nmodel M(x: [B, 4]) -> [B, 4] {\n  return x\n}\n'), 'NN2003').message, 'constant `K` must be a number expression, got a string');
});

test('a comparison parses looser than arithmetic, a tuple binding needs two names', () => {
  const result = checkProgram('model M(x: [B, 4]) -> [B, 4] {\n  return x * (x + 1 > 2 * x)\n}\n');
  assert.deepEqual(problems(result), []);
  const ops = result.irs.get('M')!.graph.nodes.map((n) => n.op);
  assert.deepEqual(ops, ['add', 'mul', 'gt', 'mul']);
});

test('LSTM and GRU give their final states when bound as PyTorch returns them', () => {
  const text = [
    'model M(x: [B, T, 4]) -> [B, 5] {',
    '  lstm = LSTM(4, 3, layers = 2, bidirectional = true)',
    '  gru = GRU(4, 3)',
    '  head = Linear(3, 5)',
    '  out, (h, c) = lstm(x)',
    '  seq, hn = gru(x)',
    '  only = lstm(x)',
    '  o2, hc = lstm(x)',
    '  po, (ph, pc) = x |> lstm',
    '  return head(h[-1] + c[0] + hc[1][0][1] + hn[0])',
    '}',
    '',
  ].join('\n');
  const { result, shapes } = checkedClean(text);
  assert.deepEqual(
    { out: shapes.out, h: shapes.h, c: shapes.c, seq: shapes.seq, hn: shapes.hn, only: shapes.only, o2: shapes.o2, ph: shapes.ph },
    { out: '[B, T, 6]', h: '[4, B, 3]', c: '[4, B, 3]', seq: '[B, T, 3]', hn: '[1, B, 3]', only: '[B, T, 6]', o2: '[B, T, 6]', ph: '[4, B, 3]' },
  );
  const parts = result.irs.get('M')!.graph.nodes.filter((n) => n.op === 'lstm').map((n) => (n.op === 'lstm' ? n.attrs.part : -1));
  assert.deepEqual(parts, [0, 1, 2, 0, 0, 1, 2, 0, 1, 2]);
  const wrong: [string, string][] = [
    ['  out, (h, c) = gru(x)', '2 names are bound, but `gru(x)[1]` gives a tensor of shape [1, B, 3]'],
    ['  out, h, c = lstm(x)', '3 names are bound, but `lstm(x)` gives 2 results'],
  ];
  for (const [line, message] of wrong) {
    const broken = checkProgram(text.replace('  out, (h, c) = lstm(x)', line).replace('h[-1] + c[0] + ', ''));
    const d = only(broken, 'NN2147');
    assert.ok(d.message.includes(message), d.message);
  }
});
