// A check that nobody holds is garbage for the young-generation collector: nothing of it
// outlives two scavenges. The editor re-checks on every keystroke, so a result that survived
// would be copied and promoted on each one (LSP latency spikes; see bench/lsp).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { checkProgram } from '../../engine/src/lang/program.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

const oldSpaceBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

/** A model of `layers` Linear layers applied in turn, an anonymous layer and a train block (every part of a result). */
function model(layers: number): string {
  const lines = ['model Deep(x: [B, 32]) -> [B, 32] {'];
  for (let i = 0; i < layers; i++) lines.push(`  l${i} = Linear(32, 32)`);
  lines.push('  h = x');
  for (let i = 0; i < layers; i++) lines.push(`  h = relu(l${i}(h))`);
  lines.push('  return h |> Linear(32, 32)', '}', 'train Deep {', '  data = spirals(classes = 32, points = 100)', '}');
  return `${lines.join('\n')}\n`;
}

test('a dropped check is collected by young-generation collections alone', () => {
  const text = model(400);
  for (let k = 0; k < 3; k++) checkProgram(text); // compiled and warm
  // The heap bytes one result takes when it is kept.
  gc({ type: 'major' });
  const heapBefore = process.memoryUsage().heapUsed;
  let kept: unknown = checkProgram(text);
  gc({ type: 'major' });
  const resultBytes = process.memoryUsage().heapUsed - heapBefore;
  kept = null;
  gc({ type: 'major' });
  const start = oldSpaceBytes();
  const checks = 20;
  for (let k = 0; k < checks; k++) {
    gc({ type: 'minor' });
    assert.equal(checkProgram(text).models.length, 1);
  }
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  const promoted = oldSpaceBytes() - start;
  // Were dropped results kept alive, each would be promoted on its second scavenge: about `checks - 1` results.
  assert.ok(kept === null && resultBytes > 500_000, `one result takes ${resultBytes} bytes`);
  assert.ok(promoted < 2 * resultBytes, `${checks} dropped checks promoted ${(promoted / 1e6).toFixed(2)} MB to the old generation; one result is ${(resultBytes / 1e6).toFixed(2)} MB`);
});
