// Measures, in a process started with the language server's V8 flags, how much of 20 dropped
// checks reaches the old generation (the least of three windows); prints JSON for test/lang/retention.test.ts.

import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { checkProgram } from '../../engine/src/lang/program.js';

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
// Three windows of 20 checks, the least promoted counted: what the compiler allocates while it
// optimizes (later on a loaded machine) lands in one window, a kept result in every one.
const checks = 20;
let models = 0;
let promoted = Infinity;
for (let window = 0; window < 3; window++) {
  const start = oldSpaceBytes();
  for (let k = 0; k < checks; k++) {
    gc({ type: 'minor' });
    models += checkProgram(text).models.length;
  }
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  promoted = Math.min(promoted, oldSpaceBytes() - start);
}
console.log(JSON.stringify({ checks, models: models / 3, kept: kept === null, resultBytes, promoted }));
