import { mlpIR, cnnIR } from './irBuilder.js';
import { OnnxTrainer } from '../../engine/src/onnx/session.js';
function rand(n: number, s = 0.1) { return Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * s); }
(async () => {
  const which = process.argv[2] ?? 'mlp';
  const model = which === 'cnn' ? cnnIR() : mlpIR();
  const xs = which === 'cnn' ? [64, 1, 28, 28] : [64, 784];
  for (const [stats, opt] of [[false, 'SGD'], [true, 'SGD'], [false, 'Adam'], [true, 'Adam']] as const) {
    const init = new Map<string, Float32Array>();
    for (const p of model.params) init.set(p.name, rand(p.shape.reduce((a, b) => a * b, 1), 0.1));
    const optimizer = opt === 'Adam' ? { kind: 'Adam' as const, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } : { kind: 'SGD' as const, lr: 0.01, momentum: 0.9, weightDecay: 0 };
    const t = await OnnxTrainer.create(model, new Map(), { loss: 'cross_entropy', optimizer }, init, { stats });
    const x = rand(xs.reduce((a, b) => a * b), 1);
    const y = BigInt64Array.from({ length: 64 }, (_, i) => BigInt(i % 10));
    for (let i = 0; i < 30; i++) await t.step({ data: x, shape: xs }, { data: y, shape: [64] });
    const c0 = process.cpuUsage(); const N = 300; for (let i = 0; i < N; i++) await t.step({ data: x, shape: xs }, { data: y, shape: [64] }); const c = process.cpuUsage(c0);
    console.log(which, opt, 'stats', stats, 'steps/cpu-s', (N / ((c.user + c.system) / 1e6)).toFixed(0));
  }
})();
