// The promise of issue #15 as a test, on a fixed seed: generated well-typed programs check
// clean, every binding's shape is the oracle's, the checker's, the TS engine's and the ONNX
// path's, two training steps give the same losses on both back ends, the PyTorch export
// gives the same output and loss, and every mutant is reported with its code at its line.
// Any disagreement fails, with its shrunk program. bench/soundness runs many more cases.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { caseLists, runCampaign, shrink, type Disagreement } from './campaign.js';
import { coveredConstructs, documentedConstructs, STRUCTURES } from './coverage.js';
import { generate } from './generate.js';
import { cleanup, writeCase } from './harness.js';
import { torchMissing } from './pytorch.js';

const SEED = 15;
const CASES = 300;
/** Every PYTORCH_EVERY-th case also runs its PyTorch export. */
const PYTORCH_EVERY = 4;

const lists = caseLists(SEED, CASES);

function grouped(disagreements: readonly Disagreement[]): Map<string, Disagreement[]> {
  const groups = new Map<string, Disagreement[]>();
  for (const d of disagreements) groups.set(d.signature, [...(groups.get(d.signature) ?? []), d]);
  return groups;
}

test(`${CASES} generated programs (seed ${SEED}): checker, TS engine, ONNX and PyTorch agree, and mutants are reported at their line`, async (t) => {
  const missing = torchMissing();
  if (missing) t.diagnostic(`PyTorch comparison skipped: ${missing}`);
  const result = await runCampaign(lists, 0, { pytorchEvery: missing ? 0 : PYTORCH_EVERY });
  t.diagnostic(`${result.cases} cases (${result.pytorchCases} through PyTorch), ${result.mutants} mutants; trained on ${[...result.backends].map(([k, v]) => `${k} ${v}`).join(', ')}`);

  const fresh = grouped(result.disagreements);
  const reports: string[] = [];
  for (const [signature, list] of fresh) {
    const minimal = await shrink(list[0], 20_000);
    reports.push(`${signature} (cases ${list.map((d) => d.index).join(', ')})\n${list[0].failure.message}\nminimal program:\n${minimal}`);
  }
  assert.deepEqual(reports, [], `disagreements:\n\n${reports.join('\n\n')}`);
});

test('the generator covers every built-in, layer, loss, optimizer, data set and init of the language, and the issue\'s constructs', (t) => {
  const docs = documentedConstructs();
  assert.ok(docs.includes('Conv2d') && docs.includes('bce_with_logits') && docs.includes('AdamW') && docs.includes('npy') && docs.includes('xavier_uniform'), 'the catalogue is read');
  const wanted = [...docs, ...STRUCTURES];
  // The first thousand cases of the seed (bench/soundness runs them all); the tested ones are the first few hundred.
  const covered = coveredConstructs(caseLists(SEED, 1000).flatMap((l) => generate(l).features));
  assert.deepEqual(wanted.filter((c) => !covered.has(c)), []);
  const tested = coveredConstructs(lists.flatMap((l) => generate(l).features));
  t.diagnostic(`the ${CASES} tested cases cover ${wanted.filter((c) => tested.has(c)).length} of the ${wanted.length} constructs; not: ${wanted.filter((c) => !tested.has(c)).join(', ') || 'none'}`);
});

test('the nn command checks, trains and exports generated programs with no internal error', () => {
  const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
  // The first cases whose model trains on the ONNX path and whose data is a file.
  const picked = lists.map((l) => generate(l)).filter((c) => Object.keys(c.files).length > 0 && !c.dropout && !c.features.includes('task:one-hot') && c.loss === 'cross_entropy').slice(0, 3);
  assert.equal(picked.length, 3);
  for (const c of picked) {
    const dir = writeCase(c);
    try {
      for (const args of [['check', 'net.nn'], ['train', 'net.nn', '--json', '--epochs', '1'], ['export', 'net.nn', '--format', 'pytorch', '-o', 'net.py']]) {
        const run = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
        const output = `${run.stdout}${run.stderr}`;
        assert.equal(run.status, 0, `nn ${args.join(' ')}:\n${output}\n${c.text}`);
        assert.doesNotMatch(output, /internal error|\n\s+at /, `nn ${args.join(' ')} printed a stack trace:\n${output}`);
        if (args[0] === 'train') assert.equal(JSON.parse(run.stdout.trim().split('\n').at(-1)!).type, 'end');
      }
    } finally {
      cleanup(dir);
    }
  }
});
