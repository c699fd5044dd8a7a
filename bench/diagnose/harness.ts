// Runs one diagnosis setup (a .nn program whose target line is marked `# expect NNxxxx`, or an
// unmarked healthy one) on a back end and says what the run found: shared by the benchmark
// (run.ts) and the docs-examples test.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { train } from '../../engine/src/run/loop.js';
import type { Finding, RunEvent } from '../../engine/src/core/events.js';

export interface Setup {
  name: string;
  text: string;
  /** Data files the program reads (paths relative to its folder), written there before the run. */
  files?: Record<string, string>;
}

export interface Outcome {
  findings: Finding[];
  /** 1-based line of each finding. */
  lines: number[];
  steps: number;
  /** Mean milliseconds per training step (the run's wall time over its steps). */
  msPerStep: number;
  backend: 'ts' | 'onnx';
  errors: string[];
}

/** The code a setup expects and the 1-based line it marks, or null for a healthy setup. */
export function expectation(text: string): { code: string; line: number } | null {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => /# expect NN\d{4}/.test(l));
  if (index < 0) return null;
  return { code: /# expect (NN\d{4})/.exec(lines[index])![1], line: index + 1 };
}

/** The Wrong and Fixed examples of one code in docs/diagnostics.md. */
export function docsExamples(code: string): { wrong: string; fixed: string } {
  const doc = readFileSync(join(__dirname, '../../docs/diagnostics.md'), 'utf8');
  const section = doc.slice(doc.indexOf(`\n## ${code}\n`)).split('\n## ')[1]!;
  const block = (label: string): string => /```nn\n([\s\S]*?)```/.exec(section.slice(section.indexOf(`**${label}:**`)))![1]!;
  return { wrong: block('Wrong'), fixed: block('Fixed') };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export async function runSetup(setup: Setup, backend: 'ts' | 'onnx', extra: { threads?: number; keep?: boolean } = {}): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'nn-diagnose-'));
  try {
    for (const [name, content] of Object.entries(setup.files ?? {})) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    let steps = 0;
    let started = 0;
    let kind: 'ts' | 'onnx' = backend;
    const onEvent = (event: RunEvent): void => {
      if (event.type === 'start') {
        kind = event.backend;
        started = performance.now();
      }
      if (event.type === 'step') steps = event.step;
    };
    const result = await train(setup.text, { baseDir: dir, saveDir: join(dir, 'run'), backend, threads: extra.threads ?? 1 }, onEvent);
    const elapsed = performance.now() - started;
    if ('errors' in result) return { findings: [], lines: [], steps: 0, msPerStep: 0, backend: kind, errors: result.errors.map((e) => `${e.code}: ${e.message}`) };
    const findings = result.end.findings;
    return { findings, lines: findings.map((f) => lineOf(setup.text, f.range.start)), steps, msPerStep: steps > 0 ? elapsed / steps : 0, backend: kind, errors: [] };
  } finally {
    if (!extra.keep) rmSync(dir, { recursive: true, force: true });
  }
}
