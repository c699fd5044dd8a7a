// Shape rule tests: the same rules over symbolic and constant dims, with their named errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dim, formatShape, shapeOf } from '../../engine/src/shape/dim.js';
import type { RuleArg, RuleResult } from '../../engine/src/shape/rules.js';
import { OPS, type AttrsOfOp, type OpName } from '../../engine/src/ops/registry.js';

/** Applies the registry's shape rule of `op` to float inputs (as the checker does). */
function inferShape<N extends OpName>(op: N, inputs: readonly ReturnType<typeof shapeOf>[], attrs: AttrsOfOp<N>): RuleResult {
  return (OPS[op].shape as (s: typeof inputs, a: AttrsOfOp<N>, d: readonly ('float32' | 'int64')[]) => RuleResult)(inputs, attrs, []);
}

const dd = (n: number) => [Dim.of(n), Dim.of(n)] as const;
const d = (n: number) => Dim.of(n);

function shape(result: RuleResult): string {
  assert.ok(!('error' in result), `unexpected error ${JSON.stringify('error' in result ? result.error : null)}`);
  return formatShape(result.shape);
}

function error(result: RuleResult): [string, RuleArg[], string | null] {
  assert.ok('error' in result, 'expected an error');
  return [result.error.code, result.error.args, result.shape ? formatShape(result.shape) : null];
}

test('dims normalize sums of products and floor division', () => {
  const B = Dim.named('B');
  assert.ok(B.add(B).equals(B.scale(2)));
  assert.equal(B.mul(3).add(B).toString(), '4*B');
  assert.equal(B.scale(4).add(8).floorDiv(4).toString(), 'B + 2');
  // Exact division divides the coefficients (784 * (1/784) is 0.9999999999999999 in floats).
  for (const n of [3, 49, 784, 1000]) assert.ok(B.scale(n).floorDiv(n).equals(B), `(${n}*B) // ${n}`);
  assert.equal(Dim.of(27).sub(3).floorDiv(2).add(1).toString(), '13');
  assert.equal(B.sub(3).floorDiv(2).toString(), '(B - 1) // 2 - 1');
  assert.equal(B.sub(3).floorDiv(2).substitute(new Map([['B', Dim.of(9)]])).toString(), '3');
});

test('floor division takes whole multiples out: (a + k*n) // n is a // n + k', () => {
  const [H, W, C] = ['H', 'W', 'C'].map((n) => Dim.named(n));
  // A 2x2 pool of H: (H - 2) // 2 + 1 is H // 2, written without parentheses.
  assert.ok(H.sub(2).floorDiv(2).add(1).equals(H.floorDiv(2)));
  assert.equal(H.sub(2).floorDiv(2).add(1).toString(), 'H // 2');
  assert.ok(H.add(W.scale(4)).sub(6).floorDiv(2).equals(H.floorDiv(2).add(W.scale(2)).sub(3)));
  assert.ok(H.scale(3).floorDiv(2).equals(H.floorDiv(2).add(H)));
  assert.equal(H.sub(1).floorDiv(2).add(1).toString(), '(H - 1) // 2 + 1');
  // By a symbolic divisor its multiples come out too; a quotient of a quotient is one quotient.
  const k = Dim.named('k');
  assert.ok(H.sub(k).floorDiv(k).add(1).equals(H.floorDiv(k)));
  assert.ok(H.floorDiv(2).floorDiv(2).equals(H.floorDiv(4)));
  assert.ok(H.sub(2).floorDiv(2).add(1).sub(2).floorDiv(2).add(1).equals(H.floorDiv(4)));
  // A quotient among other factors is parenthesized.
  assert.equal(H.floorDiv(2).mul(W.floorDiv(2)).mul(C).toString(), 'C*(H // 2)*(W // 2)');
});

test('symbolic floor division agrees with integer floor division at every value', () => {
  const H = Dim.named('H');
  const W = Dim.named('W');
  for (let h = -9; h <= 9; h++) {
    for (let w = -4; w <= 4; w++) {
      const at = new Map([['H', Dim.of(h)], ['W', Dim.of(w)]]);
      for (let n = 1; n <= 4; n++) {
        for (let c = -5; c <= 5; c++) {
          for (const [a, b] of [[1, 0], [3, 0], [-1, 0], [1, 2], [2, -3]]) {
            const dim = H.scale(a).add(W.scale(b)).add(c).floorDiv(n);
            assert.equal(dim.substitute(at).constant(), Math.floor((a * h + b * w + c) / n) + 0, `(${a}*H + ${b}*W + ${c}) // ${n} at H=${h}, W=${w}: ${dim}`);
            const twice = dim.add(W.scale(b)).add(c).floorDiv(n + 1);
            const expected = Math.floor((Math.floor((a * h + b * w + c) / n) + b * w + c) / (n + 1)) + 0;
            assert.equal(twice.substitute(at).constant(), expected, `(${dim} + ${b}*W + ${c}) // ${n + 1} at H=${h}, W=${w}: ${twice}`);
            if (w !== 0) {
              const byName = H.scale(a).add(W.scale(c)).floorDiv(W);
              assert.equal(byName.substitute(at).constant(), Math.floor((a * h + c * w) / w) + 0, `(${a}*H + ${c}*W) // W at H=${h}, W=${w}: ${byName}`);
            }
          }
        }
      }
    }
  }
});

test('elementwise ops broadcast like NumPy', () => {
  assert.equal(shape(inferShape('add', [shapeOf(['B', 4]), shapeOf([4])], {})), '[B, 4]');
  assert.equal(shape(inferShape('mul', [shapeOf(['B', 1, 5]), shapeOf([3, 1])], {})), '[B, 3, 5]');
  assert.deepEqual(error(inferShape('add', [shapeOf(['B', 4]), shapeOf([3])], {})), ['NN2101', ['[B, 4]', '[3]', '4', '3'], null]);
  assert.equal(error(inferShape('sub', [shapeOf(['B', 4]), shapeOf(['T', 4])], {}))[0], 'NN2101');
});

test('matmul: 2-D, batched and vector forms; inner dims must agree', () => {
  assert.equal(shape(inferShape('matmul', [shapeOf(['B', 3]), shapeOf([3, 5])], {})), '[B, 5]');
  assert.equal(shape(inferShape('matmul', [shapeOf(['B', 'T', 3]), shapeOf([3, 5])], {})), '[B, T, 5]');
  assert.equal(shape(inferShape('matmul', [shapeOf([3]), shapeOf([3, 5])], {})), '[5]');
  assert.deepEqual(error(inferShape('matmul', [shapeOf(['B', 3]), shapeOf([4, 5])], {})), ['NN2102', ['[B, 3]', '[4, 5]', '3', '4'], '[B, 5]']);
  // Batch dims that do not broadcast: either may be the mistake, so the result is unknown.
  assert.deepEqual(error(inferShape('matmul', [shapeOf([2, 'T', 4]), shapeOf([3, 4, 5])], {})), ['NN2101', ['[2]', '[3]', '2', '3'], null]);
  assert.deepEqual(error(inferShape('matmul', [shapeOf([2, 'T', 3]), shapeOf([3, 4, 5])], {})), ['NN2102', ['[2, T, 3]', '[3, 4, 5]', '3', '4'], null]);
});

test('attention: leading dims that differ leave the result unknown; other sizes do not change it', () => {
  const attention = (q: (string | number)[], k: (string | number)[], v: (string | number)[]) => error(inferShape('scaled_dot_product_attention', [shapeOf(q), shapeOf(k), shapeOf(v)], { causal: false, scale: undefined }));
  assert.deepEqual(attention(['B', 'T', 8], ['C', 'T', 8], ['B', 'T', 8])[2], null);
  assert.deepEqual(attention(['B', 'T', 8], ['B', 'T', 8], ['C', 'T', 8])[2], null);
  assert.deepEqual(attention(['B', 'T', 8], ['B', 'S', 6], ['B', 'S', 4])[2], '[B, T, 4]');
  assert.deepEqual(attention(['B', 'T', 8], ['B', 'S', 8], ['B', 'R', 4])[2], '[B, T, 4]');
  const multihead = inferShape('multihead_attention', [shapeOf(['B', 'T', 6]), shapeOf([24, 8])], { heads: d(2), causal: false, bias: true });
  assert.deepEqual(error(multihead), ['NN2111', ['MultiheadAttention', '8 features on the last axis', { input: 0 }, '[B, T, 6]'], null]);
});

test('linear: a single number leaves the result unknown; in features that differ do not change it', () => {
  assert.equal(error(inferShape('linear', [shapeOf([]), shapeOf([8, 1]), shapeOf([8])], {}))[2], null);
  assert.equal(error(inferShape('linear', [shapeOf(['B', 6]), shapeOf([8, 4]), shapeOf([8])], {}))[2], '[B, 8]');
});

test('normalization: an input the layer does not fit leaves the result unknown', () => {
  const x = shapeOf(['B', 3, 8, 8]);
  assert.equal(error(inferShape('batch_norm2d', [x, shapeOf([4]), shapeOf([4]), shapeOf([4]), shapeOf([4])], { eps: 1e-5, momentum: 0.1 }))[2], null);
  assert.equal(error(inferShape('layer_norm', [shapeOf(['B', 6]), shapeOf([8]), shapeOf([8])], { eps: 1e-5 }))[2], null);
  assert.equal(error(inferShape('rms_norm', [shapeOf(['B', 6]), shapeOf([8])], { eps: 1e-5 }))[2], null);
});

test('linear and conv2d agree for symbolic and constant batch sizes', () => {
  for (const batch of ['B', 64] as const) {
    const linear = inferShape('linear', [shapeOf([batch, 9216]), shapeOf([128, 9216]), shapeOf([128])], {});
    assert.equal(shape(linear), `[${batch}, 128]`);
    const conv = inferShape('conv2d', [shapeOf([batch, 1, 28, 28]), shapeOf([32, 1, 3, 3]), shapeOf([32])], { stride: [d(1), d(1)], padding: [d(0), d(0)] });
    assert.equal(shape(conv), `[${batch}, 32, 26, 26]`);
  }
  assert.deepEqual(error(inferShape('linear', [shapeOf(['B', 9216]), shapeOf([128, 4608])], {})), ['NN2103', ['4608', { input: 0 }, '[B, 9216]', { origin: 0 }], '[B, 128]']);
  const channels = error(inferShape('conv2d', [shapeOf(['B', 16, 32, 32]), shapeOf([32, 32, 3, 3])], { stride: [d(1), d(1)], padding: [d(1), d(1)] }));
  assert.deepEqual(channels, ['NN2104', ['Conv2d', '32', { input: 0 }, '[B, 16, 32, 32]', { origin: 0 }], '[B, 32, 32, 32]']);
  assert.equal(error(inferShape('conv2d', [shapeOf(['B', 16]), shapeOf([32, 16, 3, 3])], { stride: [d(1), d(1)], padding: [d(0), d(0)] }))[0], 'NN2108');
  assert.equal(error(inferShape('conv2d', [shapeOf(['B', 1, 2, 2]), shapeOf([4, 1, 5, 5])], { stride: [d(1), d(1)], padding: [d(0), d(0)] }))[0], 'NN2105');
  assert.equal(shape(inferShape('conv2d', [shapeOf(['B', 3, 'H', 'W']), shapeOf([8, 3, 3, 3])], { stride: [d(2), d(2)], padding: [d(1), d(1)] })), '[B, 8, (H - 1) // 2 + 1, (W - 1) // 2 + 1]');
});

test('pooling, flatten, reshape and concat', () => {
  assert.equal(shape(inferShape('max_pool2d', [shapeOf(['B', 64, 24, 24])], { k: dd(2), stride: dd(2), padding: dd(0) })), '[B, 64, 12, 12]');
  assert.equal(error(inferShape('avg_pool2d', [shapeOf(['B', 1, 1, 1])], { k: dd(2), stride: dd(2), padding: dd(0) }))[0], 'NN2105');
  assert.equal(shape(inferShape('flatten', [shapeOf(['B', 64, 12, 12])], { start: 1, end: -1 })), '[B, 9216]');
  assert.equal(shape(inferShape('reshape', [shapeOf(['B', 4, 6])], { shape: shapeOf(['B', -1]) })), '[B, 24]');
  assert.deepEqual(error(inferShape('reshape', [shapeOf(['B', 4, 6])], { shape: shapeOf(['B', 25]) })).slice(0, 2), ['NN2106', ['[B, 4, 6]', '24*B', '[B, 25]', '25*B']]);
  assert.equal(shape(inferShape('concat', [shapeOf(['B', 3]), shapeOf(['B', 5])], { axis: 1 })), '[B, 8]');
  assert.equal(error(inferShape('concat', [shapeOf(['B', 3]), shapeOf([2, 5])], { axis: 1 }))[0], 'NN2107');
});

test('reductions, axes and the remaining layer ops', () => {
  assert.equal(shape(inferShape('sum', [shapeOf(['B', 'O'])], { axis: 0, keepdims: false })), '[O]');
  assert.equal(shape(inferShape('mean', [shapeOf(['B', 'T', 32])], { axis: 1, keepdims: true })), '[B, 1, 32]');
  assert.equal(shape(inferShape('max', [shapeOf(['B', 3])], { axis: undefined, keepdims: false })), '[]');
  assert.deepEqual(error(inferShape('softmax', [shapeOf(['B', 3])], { axis: 2 })).slice(0, 2), ['NN2109', [2, '[B, 3]']]);
  assert.equal(shape(inferShape('transpose', [shapeOf(['O', 'I'])], { a: 0, b: 1 })), '[I, O]');
  assert.equal(shape(inferShape('embedding', [shapeOf(['B', 'T']), shapeOf([1000, 32])], { padding_idx: undefined })), '[B, T, 32]');
  assert.equal(error(inferShape('layer_norm', [shapeOf(['B', 32]), shapeOf([64]), shapeOf([64])], { eps: 1e-5 }))[0], 'NN2111');
  assert.equal(error(inferShape('batch_norm2d', [shapeOf(['B', 8, 4, 4]), shapeOf([16])], { eps: 1e-5, momentum: 0.1 }))[0], 'NN2104');
  assert.equal(shape(inferShape('cross_entropy', [shapeOf(['B', 10]), shapeOf(['B'])], { label_smoothing: 0 })), '[]');
  assert.equal(shape(inferShape('cross_entropy', [shapeOf(['B', 'T', 10]), shapeOf(['B', 'T'])], { label_smoothing: 0 })), '[]');
  assert.equal(error(inferShape('cross_entropy', [shapeOf(['B', 10, 2]), shapeOf(['B'])], { label_smoothing: 0 }))[0], 'NN2111');
  assert.equal(error(inferShape('cross_entropy', [shapeOf([10]), shapeOf(['B'])], { label_smoothing: 0 }))[0], 'NN2108');
  assert.equal(error(inferShape('mse', [shapeOf(['B', 1]), shapeOf(['B'])], {}))[0], 'NN2101');
});

test('the axis ops: squeeze and expand need a size provably 1, permute a permutation', () => {
  const [B, T] = ['B', 'T'].map((n) => Dim.named(n));
  assert.equal(shape(inferShape('squeeze', [[B, T.sub(T).add(1), d(3)]], { dim: 1 })), '[B, 3]');
  assert.deepEqual(error(inferShape('squeeze', [[B, T, d(3)]], { dim: 1 })), ['NN2150', [1, '[B, T, 3]', 'T', ', not known to be 1'], null]);
  assert.equal(shape(inferShape('unsqueeze', [[B, T]], { dim: -1 })), '[B, T, 1]');
  assert.equal(error(inferShape('unsqueeze', [[B, T]], { dim: 3 }))[0], 'NN2109');
  assert.equal(shape(inferShape('permute', [[B, T, d(3)]], { dims: [-1, 0, 1] })), '[3, B, T]');
  for (const dims of [[0, 1], [0, 1, 1], [0, 1, 3]]) assert.equal(error(inferShape('permute', [[B, T, d(3)]], { dims }))[0], 'NN2151', `[${dims}]`);
  assert.equal(shape(inferShape('stack', [[B, T], [B, T]], { dim: 1 })), '[B, 2, T]');
  assert.deepEqual(error(inferShape('stack', [[B, T], [B, T], [B, d(2)]], { dim: 0 })), ['NN2152', ['[B, T]', 3, '[B, 2]'], null]);
  assert.equal(shape(inferShape('expand', [[d(1), T]], { sizes: [d(2), B, d(-1)] })), '[2, B, T]');
  assert.equal(shape(inferShape('expand', [[B, T]], { sizes: [B, T] })), '[B, T]');
  assert.deepEqual(error(inferShape('expand', [[B, T]], { sizes: [d(-1), d(4)] })), ['NN2154', [1, '[B, T]', 'T', '4'], null]);
  assert.equal(error(inferShape('expand', [[B, d(1)]], { sizes: [d(-1), d(2), d(-1)] }))[0], 'NN2007');
  assert.equal(error(inferShape('expand', [[B, d(1)]], { sizes: [d(3)] }))[0], 'NN2153');
  assert.equal(shape(inferShape('repeat', [[B, T]], { repeats: [d(2), d(1), d(3)] })), '[2, B, 3*T]');
  assert.equal(error(inferShape('repeat', [[B, T]], { repeats: [d(2)] }))[0], 'NN2153');
});
