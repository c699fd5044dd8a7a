import { readFileSync } from 'node:fs';
import { checkProgram } from '../../engine/src/lang/program.js';
import { randomBatches, runTs, runOnnx, maxRelativeDifference } from './parityHarness.js';
(async () => {
  const check = checkProgram(readFileSync('examples/resnet_block.nn', 'utf8'));
  const model = check.irs.get('ResNetTiny')!;
  const sgd = { kind: 'SGD' as const, lr: 0.01, momentum: 0.9, weightDecay: 1e-4 };
  for (const n of [2, 4, 8, 12, 16]) {
    const batches = randomBatches(model, 'cross_entropy', Array(n).fill(16), 1);
    const ts = runTs(model, check.fnIrs, 'cross_entropy', sgd, batches, 0);
    const ox = await runOnnx(model, check.fnIrs, 'cross_entropy', sgd, batches, 0);
    const per = [...ts.params.keys()].map((k) => [k, maxRelativeDifference(new Map([[k, ox.params.get(k)!]]), new Map([[k, ts.params.get(k)!]])).difference.toExponential(1)]);
    console.log(n, ts.losses.at(-1), ox.losses.at(-1), per.filter(([k]) => /bn1|stem|head.weight/.test(k as string)).map((p) => p.join('=')).join(' '));
  }
})();
