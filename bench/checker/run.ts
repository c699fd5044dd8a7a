// Checker latency: parse + check of a generated 5,000-line file (CNNs, MLPs with pipes,
// residual blocks, fns with grad blocks, train blocks), median over repeated runs. Two
// baselines in the same process: our scanner alone on the same text, and TypeScript's own
// parser (`ts.createSourceFile`) on as much TypeScript, which calibrates for a loaded machine.
// Target: under 50 ms (the editor re-checks on every keystroke), judged the way the editor
// runs the checker: in the language server, started with its V8 flags (`serverExecArgv`).
// For comparison it first runs with Node's default flags, where a warm re-check pays for
// young-generation collections in the middle of the check. Shapes in the result are
// formatted on first read, so a second row also reads them all (an editor showing every hint).
// Run: npx tsx bench/checker/run.ts

import { readFileSync } from 'node:fs';
import ts from 'typescript';
import type { CheckResult } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { parse } from '../../engine/src/lang/parser.js';
import { scan } from '../../engine/src/lang/scanner.js';
import { serverExecArgv } from '../../server/src/protocol.js';
import { rerunUnderServerFlags, underServerFlags } from '../serverFlags.js';
import { generate } from './model.js';

/**
 * Reads every formatted shape of a result. The checker formats them on first read, and
 * publishing diagnostics reads none; this is the cost when an editor shows them all.
 */
function readEveryShape(result: CheckResult): number {
  let length = 0;
  for (const b of result.bindings) length += b.shape.length + (b.gradShape?.length ?? 0);
  for (const l of result.layers) length += (l.inShape?.length ?? 0) + (l.outShape?.length ?? 0) + l.flops.length + l.activationBytes.length;
  for (const c of result.calls) length += c.inShapes.join().length + c.outShape.length;
  return length;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
  minWallMs: number;
}

/** Medians of wall time and of this process's CPU time (the machine may be shared), and the fastest run. */
function time(run: () => void, repeats: number): Timing {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const startCpu = process.cpuUsage();
    const start = performance.now();
    run();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { wallMs: median(wall), cpuMs: median(cpu), minWallMs: Math.min(...wall) };
}

const text = generate();
const lineCount = text.split('\n').length - 1;
const diagnostics = checkProgram(text).diagnostics.filter((d) => d.severity !== 'info');
if (diagnostics.length > 0) throw new Error(`the benchmark file should check clean: ${diagnostics[0].code} ${diagnostics[0].message}`);

let typescriptText = '';
while (typescriptText.length < text.length) typescriptText += readFileSync('engine/src/lang/shapes.ts', 'utf8');
const parseTypeScript = () => ts.createSourceFile('bench.ts', typescriptText, ts.ScriptTarget.ES2022, true);

for (let k = 0; k < 5; k++) {
  checkProgram(text); // warm up the JIT
  parseTypeScript();
}
const scanTime = time(() => scan(text), 30);
const typescriptTime = time(parseTypeScript, 30);
const parseTime = time(() => parse(text), 30);
const checkTime = time(() => checkProgram(text), 30);
const checkAndFormatTime = time(() => readEveryShape(checkProgram(text)), 30);
const row = (name: string, t: Timing) =>
  `  ${name.padEnd(24)} median ${t.wallMs.toFixed(2)} ms (cpu ${t.cpuMs.toFixed(2)} ms, fastest ${t.minWallMs.toFixed(2)} ms)  ${(t.wallMs / scanTime.wallMs).toFixed(1)}x scan, ${(t.wallMs / typescriptTime.wallMs).toFixed(2)}x ts parse`;
console.log(underServerFlags
  ? `\nwith the language server's V8 flags (${serverExecArgv.join(' ')}), as the editor checks:`
  : `checker benchmark: ${lineCount} lines, ${text.length} characters; for comparison, Node's default V8 flags (the editor does not run the checker this way):`);
console.log(row('scan (baseline)', scanTime));
console.log(row('ts.createSourceFile', typescriptTime));
console.log(row('parse', parseTime));
console.log(row('parse + check', checkTime));
console.log(row('... + read every shape', checkAndFormatTime));
if (underServerFlags) console.log(`  target: parse + check median under 50 ms, as the editor re-checks: ${checkTime.wallMs < 50 ? 'met' : 'NOT met'}`);

// The same measurements in a process started the way the client starts the server.
if (!underServerFlags) rerunUnderServerFlags();
