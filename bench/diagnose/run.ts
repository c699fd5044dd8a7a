// The diagnosis benchmark: every faulty setup (setups.ts) must report its code at its marked
// line, no healthy one may report anything. Prints per back end the detection rate (the
// expected code anywhere), localization rate (at the marked line), false-alarm rate (healthy
// runs with any finding), median steps to the first alert, the NaN setups whose NN5004 names
// the step the NaN appeared in (the step after the last one completed), and ms per step.
// Usage: npx tsx bench/diagnose/run.ts [ts|onnx ...]; the monitoring overhead: bench/diagnose/overhead.ts.

import { expectation, runSetup, type Outcome } from './harness.js';
import { faultySetups, healthySetups } from './setups.js';

const medianOf = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (a: number, b: number): string => `${((100 * a) / Math.max(b, 1)).toFixed(0)}% (${a}/${b})`;

async function main(): Promise<void> {
  const backends = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['ts', 'onnx']) as ('ts' | 'onnx')[];
  const faulty = faultySetups();
  const healthy = healthySetups();
  const rows: string[] = [];
  for (const backend of backends) {
    let detected = 0;
    let localized = 0;
    let alarms = 0;
    const firstAlert: number[] = [];
    const msPerStep: number[] = [];
    const nanAtStep = { n: 0, found: 0 };
    const byCode = new Map<string, { n: number; found: number; placed: number }>();
    for (const setup of faulty) {
      const want = expectation(setup.text)!;
      const o: Outcome = await runSetup(setup, backend);
      if (o.errors.length > 0) throw new Error(`${setup.name}: ${o.errors.join('; ')}`);
      const hits = o.findings.map((f, i) => ({ f, line: o.lines[i] })).filter((h) => h.f.code === want.code);
      const entry = byCode.get(want.code) ?? { n: 0, found: 0, placed: 0 };
      entry.n++;
      if (hits.length > 0) {
        detected++;
        entry.found++;
        firstAlert.push(Math.min(...hits.map((h) => h.f.step)));
      }
      if (hits.some((h) => h.line === want.line)) {
        localized++;
        entry.placed++;
      }
      byCode.set(want.code, entry);
      if (want.code === 'NN5004') {
        nanAtStep.n++;
        if (hits.some((h) => h.f.step === o.steps + 1)) nanAtStep.found++;
      }
      msPerStep.push(o.msPerStep);
      if (hits.length === 0) console.error(`[${backend}] missed ${want.code}: ${setup.name}; found ${o.findings.map((f) => f.code).join(', ') || 'nothing'}`);
    }
    for (const setup of healthy) {
      const o = await runSetup(setup, backend);
      if (o.errors.length > 0) throw new Error(`${setup.name}: ${o.errors.join('; ')}`);
      if (o.findings.length > 0) {
        alarms++;
        console.error(`[${backend}] false alarm on ${setup.name}: ${o.findings.map((f) => `${f.code} ${f.message}`).join(' | ')}`);
      }
      msPerStep.push(o.msPerStep);
    }
    rows.push(`| ${backend} | ${pct(detected, faulty.length)} | ${pct(localized, faulty.length)} | ${pct(alarms, healthy.length)} | ${medianOf(firstAlert)} | ${pct(nanAtStep.found, nanAtStep.n)} | ${medianOf(msPerStep).toFixed(2)} |`);
    for (const [code, e] of [...byCode].sort()) rows.push(`|   ${code} | ${pct(e.found, e.n)} | ${pct(e.placed, e.n)} | | | | |`);
  }
  console.log('| back end | detection | localization | false alarms | median steps to first alert | NaN at its step | median ms/step |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

void main();
