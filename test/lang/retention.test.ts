// A check that nobody holds is garbage for the young-generation collector: nothing of it
// outlives two scavenges in the language server (run with its V8 flags, serverNodeOptions).
// The editor re-checks on every keystroke, so a result that survived would be copied and
// promoted on each one (LSP latency spikes; see bench/lsp).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { serverNodeOptions } from '../../engine/src/cli/serverNodeOptions.js';

test('a dropped check is collected by young-generation collections alone', () => {
  const probe = join(__dirname, 'retentionProbe.ts');
  const out = execFileSync(process.execPath, [...serverNodeOptions, '--expose-gc', '--import', 'tsx', probe], { encoding: 'utf8' });
  const { checks, models, kept, resultBytes, promoted } = JSON.parse(out) as Record<string, number | boolean>;
  assert.equal(models, checks);
  // Were dropped results kept alive, each would be promoted on its second scavenge: about `checks - 1` results.
  assert.ok(kept === true && (resultBytes as number) > 500_000, `one result takes ${resultBytes} bytes`);
  assert.ok((promoted as number) < 2 * (resultBytes as number), `${checks} dropped checks promoted ${((promoted as number) / 1e6).toFixed(2)} MB to the old generation; one result is ${((resultBytes as number) / 1e6).toFixed(2)} MB`);
});
