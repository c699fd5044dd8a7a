// After an error the value is unknown and fits anything: each fixture's first errors are
// reported exactly as they were (code, line, message, fixes), with nothing after them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LineIndex } from '../../engine/src/lang/lines.js';
import { checkProgram } from '../../engine/src/lang/program.js';

/** Every diagnostic of a fixture as `line: code message`, with its fixes' titles. */
function reported(name: string): string[] {
  const text = readFileSync(`test/fixtures/cases/${name}`, 'utf8');
  const lines = new LineIndex(text);
  return checkProgram(text).diagnostics.map((d) => {
    const fixes = d.fixes.map((fix) => fix.title);
    return `${lines.lineOf(d.range.start) + 1}: ${d.code} ${d.message}${fixes.length > 0 ? ` (fix: ${fixes.join('; ')})` : ''}`;
  });
}

const expected: Record<string, string[]> = {
  'err_nn2101_broadcast_no_cascade.nn': [
    '7: NN2101 shapes [B, 6] and [B, 5] cannot be broadcast together (6 vs 5)',
    '13: NN2101 shapes [B, 8] and [B, 3] cannot be broadcast together (8 vs 3)',
    '19: NN2101 shapes [B, 4] and [3, 4] cannot be broadcast together (B vs 3)',
    '24: NN2101 shapes [B, 4] and [B, 5] cannot be broadcast together (4 vs 5)',
  ],
  'err_nn2005_block_input_no_cascade.nn': [
    '12: NN2005 `Res` expects `x` of shape [B, 6], but `x` has shape [B, 4]',
    '17: NN2005 `Res` expects `x` of shape [B, 8], but `x` has shape [B, 4]',
    '23: NN2005 `Res` expects `x` of shape [B, 5], but `x` has shape [B, 4]',
    '28: NN2005 `Res` expects `x` of shape [B, 5], but `x` has shape [B, 4]',
  ],
  'err_op_operand_no_cascade.nn': [
    '4: NN2101 shapes [2] and [3] cannot be broadcast together (2 vs 3)',
    '9: NN2152 `stack` needs tensors of one shape: tensor 1 is [B, 4], tensor 2 is [B, 6]',
    '14: NN2131 `q` has shape [B, T, 8] but `k` has shape [C, T, 8]: queries and keys need the same leading (batch, head) dims',
    '19: NN2101 shapes [B, 4] and [B, 6] cannot be broadcast together (4 vs 6)',
  ],
  'err_nn2111_multihead_features_no_cascade.nn': [
    '6: NN2111 MultiheadAttention expects 8 features on the last axis, but `x` has shape [B, T, 6] (fix: Change embed_dim to 6)',
    '12: NN2111 MultiheadAttention expects 8 features on the last axis, but `x` has shape [B, T, 6] (fix: Change embed_dim to 6)',
  ],
  'err_norm_size_no_cascade.nn': [
    '6: NN2104 BatchNorm2d expects 4 input channels, but `x` has shape [B, 3, 8, 8] (fix: Change num_features to 3)',
    '12: NN2111 LayerNorm expects 8 features on the last axis, but `x` has shape [B, 6] (fix: Change normalized_shape to 6)',
    '18: NN2111 RMSNorm expects 8 features on the last axis, but `x` has shape [B, 6] (fix: Change normalized_shape to 6)',
    '24: NN2104 GroupNorm expects 8 input channels, but `x` has shape [B, 6, 4, 4] (fix: Change num_channels to 6)',
    '30: NN2104 InstanceNorm2d expects 8 input channels, but `x` has shape [B, 6, 4, 4] (fix: Change num_features to 6)',
    '36: NN2108 BatchNorm1d expects a 2-D or 3-D input [N, C] or [N, C, L], but `x` has shape [B, 4, 5, 6]',
    '42: NN2111 BatchNorm1d expects 8 features on axis 1, but `x` has shape [B, 6] (fix: Change num_features to 6)',
  ],
  'err_nn2147_unpack_no_cascade.nn': [
    '5: NN2147 2 names are bound, but `x` gives a tensor of shape [B, 8]',
    '10: NN2147 3 names are bound, but `chunk(x, 2, dim = 1)` gives 2 results',
  ],
  'err_nn2003_scalar_operand_no_cascade.nn': [
    '4: NN2003 `**`: `exponent` must be a number, got a tensor of shape [B, 8]',
    '9: NN2003 `*`: `operand` must be a tensor or a number, got a flag',
    '14: NN2001 undefined name `zz`',
    '19: NN2001 undefined name `zz`',
  ],
  'err_nn2005_fn_no_cascade.nn': [
    '10: NN2005 `addb` expects `b` of shape [6], but `w` has shape [7]',
    '16: NN2005 `addb` expects `b` of shape [6], but `w` has shape [7]',
  ],
  'err_nn2108_linear_scalar_no_cascade.nn': ['5: NN2108 Linear expects an input of rank 1 or more, but `s` has shape []'],
};

for (const [name, diagnostics] of Object.entries(expected)) {
  test(`${name}: the first error as before, and no follow-on error or fix from an unknown size`, () => {
    assert.deepEqual(reported(name), diagnostics);
  });
}
