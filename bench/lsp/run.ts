// Language-server latency on two 5,000-line files, over a real stdio connection to the built
// server: first diagnostics after opening (a fresh server each time), didChange →
// publishDiagnostics (median and p95 over 100 edits after 50 unmeasured warm-up edits, half of
// which break a shape by typing a digit into a layer's size and half delete it), hover latency, and the server's resident memory. The
// files: the checker benchmark's (100 units of fns, blocks, CNNs, MLPs and train blocks; an edit
// in one model leaves the others' results to reuse) and one model of 2,490 layers (an edit
// re-checks all of it). The baseline is a fresh `checkProgram` on the same edits in this
// process, under the server's Node options, keeping each result until the next edit as the
// server does.
// Run: npm run build && npx tsx bench/lsp/run.ts

import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hover } from 'vscode-languageserver/node';
import type { CheckResult } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { LspClient } from '../../test/server/lspClient.js';
import { generate } from '../checker/model.js';
import { rerunUnderServerFlags, underServerFlags } from '../serverFlags.js';

const LAYERS = 2490;
const WARM_UP = 50;
const EDITS = 100;
const FRESH_OPENS = 5;
/** The targets of the speed issue: p95 latencies in ms. */
const TARGETS = { open: 300, edit: 10, hover: 2 };

/** A file to edit: its text, the text an edit changes (`from` ↔ `to`, breaking a shape) and a call to hover over. */
interface Scenario {
  name: string;
  text: string;
  from: string;
  to: string;
  /** Where `from` is searched from. */
  after: number;
  hoverAt: (i: number) => string;
}

/** One model of `LAYERS` declarations and as many applications: about 5,000 lines. */
function bigModel(): Scenario {
  const lines = ['# A long, boring model for the language-server benchmark.', 'model Big(x: [B, 64]) -> [B, 64] {'];
  for (let i = 0; i < LAYERS; i++) lines.push(`  l${i} = Linear(64, 64)`);
  lines.push('  h = x');
  for (let i = 0; i < LAYERS; i++) lines.push(`  h = relu(l${i}(h))`);
  lines.push('  return h', '}', '', 'train Big {', '  data = spirals(classes = 64, points = 100)', '}');
  return { name: 'one model of 2,490 layers', text: `${lines.join('\n')}\n`, from: 'l1234 = Linear(64, 64)', to: 'l1234 = Linear(644, 64)', after: 0, hoverAt: (i) => `l${(i * 37) % LAYERS}(h)` };
}

/** The checker benchmark's file, edited in the fc1 of a CNN in its middle. */
function manyModels(): Scenario {
  const text = generate();
  return { name: '100 units of fns, blocks, models', text, after: Math.floor(text.length / 2), from: 'fc1 = Linear(16 * 14 * 14, 128)', to: 'fc1 = Linear(16 * 14 * 144, 128)', hoverAt: (i) => `fc${1 + (i % 2)}(h)` };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples: number[]): { median: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Where an edit of the scenario goes: its offset, line and column, and the span where `from` and `to` differ. */
function editSite(scenario: Scenario) {
  const { text, from, to } = scenario;
  const at = text.indexOf(from, scenario.after);
  const line = text.slice(0, at).split('\n').length - 1;
  const column = at - text.lastIndexOf('\n', at - 1) - 1;
  // The edit replaces the span where `from` and `to` differ (typing or deleting a digit).
  let changed = 0;
  while (from[changed] === to[changed]) changed++;
  let same = 0;
  while (same < Math.min(from.length, to.length) - changed && from[from.length - 1 - same] === to[to.length - 1 - same]) same++;
  return { at, line, column, changed, same };
}

/** The server's side: opening in fresh servers, edits, hovers and memory. */
async function measureServer(scenario: Scenario) {
  const { text, from, to } = scenario;
  const { line, column, changed, same } = editSite(scenario);
  // Opening: a server that has just started checks the file with its code not yet compiled.
  const opens: number[] = [];
  for (let i = 0; i < FRESH_OPENS; i++) {
    const fresh = await LspClient.start({ workspaceFolder: tmpdir() });
    const started = performance.now();
    const opened = await fresh.open(join(tmpdir(), 'big.nn'), text);
    await fresh.diagnosticsFor(opened, 1, 60000);
    opens.push(performance.now() - started);
    await fresh.stop();
  }
  const open = summary(opens);

  const client = await LspClient.start({ workspaceFolder: tmpdir() });
  const uri = await client.open(join(tmpdir(), 'big.nn'), text);
  await client.diagnosticsFor(uri, 1, 60000);

  const latencies: number[] = [];
  // The first WARM_UP edits are not measured: a server that has just started is still
  // compiling its hot paths (its first edits take 3-8 times as long), and an editor's server
  // has been running for a while when its user types.
  for (let i = -WARM_UP; i < EDITS; i++) {
    const [was, now] = i % 2 === 0 ? [from, to] : [to, from]; // break, then fix, the layer's input features
    const started = performance.now();
    const range = { start: { line, character: column + changed }, end: { line, character: column + was.length - same } };
    const newText = now.slice(changed, now.length - same);
    const version = await client.edit(uri, [{ range, newText }]);
    const published = await client.diagnosticsFor(uri, version, 60000);
    if (i >= 0) latencies.push(performance.now() - started);
    if (i % 2 === 0 && !published.diagnostics.some((d) => d.code === 'NN2103')) throw new Error('the broken edit did not report NN2103');
  }
  const edit = summary(latencies);

  const hovers: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const position = client.positionOf(uri, scenario.hoverAt(i), 0, 1);
    const started = performance.now();
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
    hovers.push(performance.now() - started);
    if (!hover) throw new Error('no hover on a layer call');
  }
  const hover = summary(hovers);
  const memory = rssMiB(client.pid);
  await client.stop();

  return { open, opens, edit, hover, memory };
}

/** The baseline: a fresh check of the same edits after the same warm-up, in this process. */
function measureBaseline(scenario: Scenario): { median: number; p95: number } {
  const { text, from, to } = scenario;
  const { at } = editSite(scenario);
  const edited = (broken: boolean) => (broken ? `${text.slice(0, at)}${to}${text.slice(at + from.length)}` : text);
  const baseline: number[] = [];
  let latest: CheckResult | null = null;
  for (let i = -WARM_UP; i < EDITS; i++) {
    const started = performance.now();
    latest = null; // as the server lets go of the stale analysis before checking
    latest = checkProgram(edited(i % 2 === 0));
    if (i >= 0) baseline.push(performance.now() - started);
    if (i % 2 === 0 && !latest.diagnostics.some((d) => d.code === 'NN2103')) throw new Error('the broken edit did not report NN2103');
  }
  return summary(baseline);
}

async function main(): Promise<void> {
  const scenarios = [manyModels(), bigModel()];
  const servers: Awaited<ReturnType<typeof measureServer>>[] = [];
  for (const scenario of scenarios) servers.push(await measureServer(scenario));
  // The baselines last: their garbage would otherwise slow this process's side of the connection.
  const bases = scenarios.map(measureBaseline);
  scenarios.forEach((scenario, k) => {
    const { open, opens, edit, hover, memory } = servers[k];
    const base = bases[k];
    console.log(`\n${scenario.name}: ${scenario.text.split('\n').length - 1} lines, ${scenario.text.length} characters`);
    console.log(`checkProgram in process (baseline): median ${base.median.toFixed(1)} ms, p95 ${base.p95.toFixed(1)} ms`);
    console.log(`open → first diagnostics (fresh):   median ${open.median.toFixed(0)} ms, max ${Math.max(...opens).toFixed(0)} ms of ${FRESH_OPENS} (target < ${TARGETS.open} ms)`);
    console.log(`didChange → publishDiagnostics:     median ${edit.median.toFixed(1)} ms, p95 ${edit.p95.toFixed(1)} ms (target p95 < ${TARGETS.edit} ms) — ${(edit.median / base.median).toFixed(2)}× the baseline`);
    console.log(`hover:                               median ${hover.median.toFixed(2)} ms, p95 ${hover.p95.toFixed(2)} ms (target p95 < ${TARGETS.hover} ms)`);
    console.log(`server memory (RSS):                 ${memory.toFixed(0)} MiB`);
  });
}

if (underServerFlags) void main();
else rerunUnderServerFlags();
