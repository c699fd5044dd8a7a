// A run of many generated cases, shared by the fixed-seed test and bench/soundness: each
// case's disagreements, grouped by signature, with the PyTorch jobs of a share of the cases run in batches, and a new
// disagreement shrunk (by fast-check, over the choice list) to a minimal program.

import fc from 'fast-check';
import { choiceList } from './choices.js';
import { generate, type Case } from './generate.js';
import { cleanup, runCase, type Failure, type PytorchJob } from './harness.js';
import { runPytorchJobs } from './pytorch.js';

export interface Disagreement {
  /** Stage and first words: cases with one signature are one bug. */
  signature: string;
  failure: Failure;
  index: number;
  values: number[];
  text: string;
}

export interface CampaignResult {
  cases: number;
  mutants: number;
  disagreements: Disagreement[];
  /** How many cases passed each stage. */
  reached: Map<string, number>;
  features: Map<string, number>;
  backends: Map<string, number>;
  pytorchCases: number;
}

/** The signature of a failure: its stage and its first words, numbers left out. */
export function signatureOf(f: Failure): string {
  const words = f.message.split('\n')[0].replace(/line \d+/g, 'line N').replace(/-?\d+(\.\d+)?(e-?\d+)?/g, 'N').slice(0, 80);
  return `${f.stage}: ${words}`;
}

export interface CampaignOptions {
  /** Run the PyTorch comparison for every `pytorchEvery`-th case (0: never). */
  pytorchEvery: number;
  /** PyTorch jobs per python process. */
  pytorchBatch?: number;
  onCase?: (done: number) => void;
}

/** Runs the cases made from `lists` (choice lists); `first` numbers them. */
export async function runCampaign(lists: readonly number[][], first: number, options: CampaignOptions): Promise<CampaignResult> {
  const result: CampaignResult = { cases: 0, mutants: 0, disagreements: [], reached: new Map(), features: new Map(), backends: new Map(), pytorchCases: 0 };
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let pending: { job: PytorchJob; c: Case; index: number; values: number[]; dir: string }[] = [];
  const flush = () => {
    const outcomes = runPytorchJobs(pending.map((p) => p.job));
    pending.forEach((p, k) => {
      result.pytorchCases++;
      if (outcomes[k].length === 0) count(result.reached, 'pytorch');
      if (p.job.argmaxTie) count(result.reached, 'pytorch-values-at-an-argmax-tie');
      for (const f of outcomes[k]) record(p.c, f, p.index, p.values);
      cleanup(p.dir);
    });
    pending = [];
  };
  const record = (c: Case, f: Failure, index: number, values: number[]) => {
    result.disagreements.push({ signature: signatureOf(f), failure: f, index, values, text: c.text });
  };
  for (let k = 0; k < lists.length; k++) {
    const index = first + k;
    const c = generate(lists[k]);
    const torch = options.pytorchEvery > 0 && index % options.pytorchEvery === 0;
    const r = await runCase(c, { pytorch: torch });
    result.cases++;
    result.mutants += r.mutants;
    for (const stage of r.reached) count(result.reached, stage);
    for (const feature of c.features) count(result.features, feature);
    count(result.backends, r.backend ?? 'none');
    for (const f of r.failures) record(c, f, index, lists[k]);
    if (r.pytorch) pending.push({ job: r.pytorch, c, index, values: lists[k], dir: r.dir });
    else cleanup(r.dir);
    if (pending.length >= (options.pytorchBatch ?? 100)) flush();
    options.onCase?.(k + 1);
  }
  flush();
  return result;
}

/** The choice lists of the first `count` cases of `seed`: case k is the same in every run of that seed. */
export function caseLists(seed: number, count: number): number[][] {
  return fc.sample(choiceList, { seed, numRuns: count });
}

/**
 * The smallest program (by fast-check's shrinking of its choice list) that still shows a
 * disagreement of the same signature; at most `timeLimitMs` of shrinking.
 */
export async function shrink(d: Disagreement, timeLimitMs: number): Promise<string> {
  let smallest = d.text;
  const sameFailure = async (values: number[]): Promise<boolean> => {
    const c = generate(values);
    const r = await runCase(c, { pytorch: d.failure.stage === 'pytorch' });
    let failures = r.failures;
    if (r.pytorch) failures = [...failures, ...runPytorchJobs([r.pytorch])[0]];
    cleanup(r.dir);
    const same = failures.some((f) => signatureOf(f) === d.signature);
    if (same && c.text.length <= smallest.length) smallest = c.text;
    return same;
  };
  await fc.check(
    fc.asyncProperty(choiceList, async (values) => !(await sameFailure(values))),
    { examples: [[d.values]], numRuns: 1, interruptAfterTimeLimit: timeLimitMs, seed: 0 },
  );
  return smallest;
}
