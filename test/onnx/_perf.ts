import { mlpIR } from './irBuilder.js';
import { OnnxTrainer } from '../../engine/src/onnx/session.js';
function rand(n: number, s = 0.1) { return Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * s); }
(async () => {
  const model = mlpIR();
  for (const [stats, opt] of [[true, 'Adam'], [false, 'Adam'], [false, 'SGD']] as const) {
    const init = new Map<string, Float32Array>();
    for (const p of model.params) init.set(p.name, rand(p.shape.reduce((a, b) => a * b, 1), 0.1));
    const optimizer = opt === 'Adam' ? { kind: 'Adam' as const, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } : { kind: 'SGD' as const, lr: 0.01, momentum: 0, weightDecay: 0 };
    const t = await OnnxTrainer.create(model, new Map(), { loss: 'cross_entropy', optimizer }, init, { stats });
    const x = rand(64 * 784, 1);
    const y = BigInt64Array.from({ length: 64 }, (_, i) => BigInt(i % 10));
    for (let i = 0; i < 30; i++) await t.step({ data: x, shape: [64, 784] }, { data: y, shape: [64] });
    const t0 = Date.now(); for (let i = 0; i < 200; i++) await t.step({ data: x, shape: [64, 784] }, { data: y, shape: [64] });
    console.log(stats, opt, 'steps/s', 200000 / (Date.now() - t0));
  }
})();
