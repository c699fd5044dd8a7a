// Checker latency: parse + check of a generated 5,000-line file (CNNs, MLPs with pipes,
// residual blocks, fns with grad blocks, train blocks), median over repeated runs. The
// baseline is the scanner alone on the same text, so the ratio is the cost of analysis.
// Target: under 50 ms (the editor re-checks on every keystroke).
// Run: npx tsx bench/checker/run.ts

import { checkProgram } from '../../engine/src/lang/program.js';
import { parse } from '../../engine/src/lang/parser.js';
import { scan } from '../../engine/src/lang/scanner.js';

const TARGET_LINES = 5000;

function unit(i: number): string[] {
  return [
    `const width${i} = ${16 + (i % 4) * 16}`,
    '',
    `fn scale${i}(x: [B, N], s: [N]) -> [B, N] {`,
    '  return x * s',
    '} grad(g) {',
    '  return g * s, sum(g * x, 0)',
    '}',
    '',
    `model Block${i}[c](x: [B, c, H, W]) -> [B, c, H, W] {`,
    '  conv1 = Conv2d(c, c, 3, padding = 1)',
    '  conv2 = Conv2d(c, c, 3, padding = 1)',
    '  return relu(x + conv2(relu(conv1(x))))',
    '}',
    '',
    `model Cnn${i}(x: [B, 1, 28, 28]) -> [B, 10] {`,
    '  stem = Conv2d(1, 16, 3, padding = 1)',
    `  res = Block${i}(16)`,
    '  fc1 = Linear(16 * 14 * 14, 128)',
    '  fc2 = Linear(128, 10)',
    '  s = param([128], init = ones)',
    '  h = relu(stem(x))',
    '  h = res(h)',
    '  h = max_pool2d(h, 2)',
    '  h = flatten(h, 1)',
    `  h = scale${i}(relu(fc1(h)), s)`,
    '  h = dropout(h, 0.25)',
    '  return fc2(h)',
    '}',
    '',
    `model Mlp${i}(x: [B, 2]) -> [B, 3] {`,
    `  return x |> Linear(2, width${i}) |> relu`,
    `           |> Linear(width${i}, width${i}) |> tanh`,
    `           |> Linear(width${i}, 3)`,
    '}',
    '',
    `train Mlp${i} {`,
    '  data      = spirals(classes = 3, points = 300)',
    '  optimizer = SGD(lr = 0.1, momentum = 0.9)',
    '  epochs    = 20',
    '}',
    '',
  ];
}

export function generate(lines = TARGET_LINES): string {
  const out: string[] = ['# Generated for the checker benchmark.'];
  for (let i = 0; out.length < lines; i++) out.push(...unit(i));
  return out.slice(0, lines).join('\n') + '\n';
}

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

// A generated file cut at 5,000 lines may end inside an item; extend to the item's end.
let text = generate();
while (!text.trimEnd().endsWith('}')) text += '}\n';
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
