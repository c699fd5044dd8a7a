// A `pair` parameter (Conv2d's and ConvTranspose2d's kernel, stride, padding, dilation): one
// size or `(h, w)`, shapes per axis (symbolic H, W, a block's hyper-parameter in a pair), the
// weight's [out, in, kh, kw], and each wrong value reported at the argument or its item.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckResult, Diagnostic } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';

function only(result: CheckResult, code: string): Diagnostic {
  const found = result.diagnostics.filter((d) => d.code === code);
  assert.equal(found.length, 1, `one ${code} in ${JSON.stringify(result.diagnostics.map((d) => `${d.code} ${d.message}`))}`);
  return found[0];
}

const errorsOf = (result: CheckResult) => result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);

test('pairs give each axis its own size: symbolic H and W, the weight [out, in, kh, kw], a hyper-parameter inside a pair', () => {
  const text = [
    'model Wide[k](x: [B, 2, H, W]) -> [B, 3, H, W + 2 * (k / 2) - k + 1] {',
    '  conv = Conv2d(2, 3, (1, k), padding = (0, k / 2))',
    '  return conv(x)',
    '}',
    '',
    'model M(x: [B, 2, H, W]) -> [B, 3, H, W] {',
    '  a = x |> Conv2d(2, 4, kernel_size = (1, 3), stride = (1, 2), padding = (0, 1))',
    '  b = x |> Conv2d(2, 4, (3, 5), padding = "same", dilation = (1, 2))',
    '  c = a |> ConvTranspose2d(4, 4, (1, 4), stride = (1, 2), padding = (0, 1))',
    '  d = x |> Conv2d(2, 4, 3, stride = (2, 1))',
    '  e = x |> max_pool2d((2, 1)) |> avg_pool2d(kernel_size = [1, 3], stride = (1, 2), padding = (0, 1))',
    '  return x |> Wide(5)',
    '}',
    '',
  ].join('\n');
  const result = checkProgram(text);
  assert.deepEqual(errorsOf(result), []);
  const shapes = Object.fromEntries(result.bindings.filter((b) => 'abcde'.includes(b.name)).map((b) => [b.name, b.shape]));
  assert.deepEqual(shapes, {
    a: '[B, 4, H, (W - 1) // 2 + 1]',
    b: '[B, 4, H, W]',
    c: '[B, 4, H, 2*((W - 1) // 2) + 2]',
    d: '[B, 4, (H - 1) // 2, W - 2]',
    e: '[B, 2, H // 2, (W - 1) // 2 + 1]',
  });
  const weights = Object.fromEntries(result.irs.get('M')!.params.map((p) => [p.name, p.shape.join('×')]));
  assert.equal(weights['conv2d_0.weight'], '4×2×1×3');
  assert.equal(weights['conv2d_1.weight'], '4×2×3×5');
  assert.equal(weights['convtranspose2d_0.weight'], '4×4×1×4');
  assert.equal(weights['wide_0.conv.weight'], '3×2×1×5');
});

test('a pair of sizes may not name a dim of the input (one weight shape for every input)', () => {
  const source = 'model M(x: [B, 2, H, W]) -> [B, 2, H, W] {\n  h = x |> Conv2d(2, 4, (1, W))\n  return x\n}\n';
  const d = only(checkProgram(source), 'NN2003');
  assert.equal(source.slice(d.range.start, d.range.end), '(1, W)');
});

test('a wrong pair is reported at the argument, or at the item that is out of bounds', () => {
  const cases: [string, string, string, string][] = [
    ['Conv2d(2, 4, (1, 3, 3))', 'NN2003', '(1, 3, 3)', '`Conv2d`: `kernel` must be an integer or a pair (h, w) of integers, got (1, 3, 3)'],
    ['Conv2d(2, 4, 3, stride = (2,))', 'NN2003', 'stride = (2,)', ''],
    ['Conv2d(2, 4, (1, 0))', 'NN2007', '0', '`Conv2d`: `kernel` must be at least 1, got 0'],
    ['Conv2d(2, 4, 3, padding = (-1, 1))', 'NN2007', '-1', ''],
    ['Conv2d(2, 4, 3, stride = (1, 1.5))', 'NN2003', 'stride = (1, 1.5)', ''],
    ['Conv2d(2, 4, 3, padding = "valid")', 'NN2003', 'padding = "valid"', '`Conv2d`: `padding` must be an integer or a pair (h, w) of integers, or "same", got "valid"'],
    ['Conv2d(2, 4, (3, 4), padding = "same")', 'NN2007', 'Conv2d(2, 4, (3, 4), padding = "same")', ''],
    ['Conv2d(2, 4, (1, 9))', 'NN2105', 'Conv2d(2, 4, (1, 9))', ''],
    ['ConvTranspose2d(2, 4, (2, 2, 2))', 'NN2003', '(2, 2, 2)', ''],
    ['ConvTranspose2d(2, 4, 3, output_padding = (1, -1))', 'NN2007', '-1', ''],
    ['max_pool2d((2, 2, 2))', 'NN2003', '(2, 2, 2)', ''],
    ['max_pool2d((3, 2), padding = (2, 0))', 'NN2112', 'max_pool2d((3, 2), padding = (2, 0))', ''],
  ];
  for (const [call, code, at, message] of cases) {
    const source = `model M(x: [B, 2, 8, 8]) -> [B, 2, 8, 8] {\n  h = x |> ${call}\n  return x\n}\n`;
    const d = only(checkProgram(source), code);
    assert.equal(source.slice(d.range.start, d.range.end), at, call);
    if (message) assert.equal(d.message, message, call);
  }
});
