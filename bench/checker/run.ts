// Checker latency: parse + check of a generated 5,000-line file (CNNs, MLPs with pipes,
// residual blocks, fns with grad blocks, train blocks), median over repeated runs. The
// baseline is the scanner alone on the same text, so the ratio is the cost of analysis.
// Target: under 50 ms (the editor re-checks on every keystroke).
// Run: npx tsx bench/checker/run.ts

import { checkProgram } from '../../engine/src/lang/program.js';
import { parse } from '../../engine/src/lang/parser.js';
import { scan } from '../../engine/src/lang/scanner.js';
import { generate } from './model.js';

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(run: () => void, repeats: number): number {
  const samples: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const text = generate();
const lineCount = text.split('\n').length - 1;
const diagnostics = checkProgram(text).diagnostics.filter((d) => d.severity !== 'info');
if (diagnostics.length > 0) throw new Error(`the benchmark file should check clean: ${diagnostics[0].code} ${diagnostics[0].message}`);

for (let k = 0; k < 5; k++) checkProgram(text); // warm up the JIT
const scanMs = time(() => scan(text), 30);
const parseMs = time(() => parse(text), 30);
const checkMs = time(() => checkProgram(text), 30);
console.log(`checker benchmark: ${lineCount} lines`);
console.log(`  scan (baseline)      median ${scanMs.toFixed(2)} ms`);
console.log(`  parse                median ${parseMs.toFixed(2)} ms  (${(parseMs / scanMs).toFixed(1)}x scan)`);
console.log(`  parse + check        median ${checkMs.toFixed(2)} ms  (${(checkMs / scanMs).toFixed(1)}x scan)  target < 50 ms: ${checkMs < 50 ? 'met' : 'NOT met'}`);
