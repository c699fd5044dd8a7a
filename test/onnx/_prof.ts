import { mlpIR, cnnIR } from './irBuilder.js';
import { buildTrainStep } from '../../engine/src/onnx/graphs.js';
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
function rand(n: number, s = 0.1) { return Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * s); }
(async () => {
  const [which, opt, statsArg] = process.argv.slice(2);
  const model = which === 'cnn' ? cnnIR() : mlpIR();
  const optimizer = opt === 'sgd' ? { kind: 'SGD' as const, lr: 0.01, momentum: 0.9, weightDecay: 0 } : { kind: 'Adam' as const, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
  const g = buildTrainStep(model, new Map(), 'cross_entropy', optimizer, { stats: statsArg === 'stats', dropout: false });
  const s = await ort.InferenceSession.create(g.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: '/tmp/ortprof' });
  const feeds: Record<string, ort.Tensor> = {};
  const xs = which === 'cnn' ? [64, 1, 28, 28] : [64, 784];
  feeds.x = new ort.Tensor('float32', rand(xs.reduce((a, b) => a * b), 1), xs);
  feeds.labels = new ort.Tensor('int64', BigInt64Array.from({ length: 64 }, (_, i) => BigInt(i % 10)), [64]);
  feeds.step = new ort.Tensor('float32', Float32Array.of(1), []);
  for (const p of [...g.params, ...g.state]) feeds[p.name] = new ort.Tensor('float32', rand(p.shape.reduce((a, b) => a * b, 1)), p.shape);
  for (let i = 0; i < 50; i++) await s.run(feeds);
  const c0 = process.cpuUsage(); for (let i = 0; i < 200; i++) await s.run(feeds); const c = process.cpuUsage(c0); console.log('steps/cpu-s', 200 / ((c.user + c.system) / 1e6));
  await s.endProfiling();
  const f = readdirSync('/tmp').filter((n) => n.startsWith('ortprof')).map((n) => '/tmp/' + n)[0];
  const ev = JSON.parse(readFileSync(f, 'utf8'));
  unlinkSync(f);
  const by: Record<string, number> = {}; const byNode: Record<string, number> = {}; let total = 0; let runs = 0; let nodes = 0;
  for (const e of ev) { if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const k = e.args.op_name; by[k] = (by[k] ?? 0) + e.dur; if (k === "Conv" || k === "ConvTranspose") byNode[e.name] = (byNode[e.name] ?? 0) + e.dur; total += e.dur; nodes++; } if (e.name === 'model_run') { runs++; } }
  console.log('runs', runs, 'nodes/run', nodes / runs, 'kernel us/run', (total / runs).toFixed(0));
  for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log('  ', k, (v / runs).toFixed(1));
  for (const [k, v] of Object.entries(byNode)) console.log("    ", k, (v / runs).toFixed(0));
  const mr = ev.filter((e: any) => e.name === 'model_run'); console.log('model_run us', (mr.reduce((a: number, e: any) => a + e.dur, 0) / mr.length).toFixed(0));
})();
