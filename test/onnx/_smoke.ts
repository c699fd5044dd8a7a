import { mlpIR, cnnIR } from './irBuilder.js';
import { OnnxTrainer } from '../../engine/src/onnx/session.js';
function rand(n: number, s = 0.1) { return Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * s); }
(async () => {
  for (const model of [mlpIR(), cnnIR(), cnnIR({ batchNorm: true })]) {
    const init = new Map<string, Float32Array>();
    for (const p of model.params) init.set(p.name, rand(p.shape.reduce((a, b) => a * b, 1), 0.1));
    for (const b of model.buffers) init.set(b.name, new Float32Array(b.shape[0]).fill(b.init === 'ones' ? 1 : 0));
    const t = await OnnxTrainer.create(model, new Map(), { loss: 'cross_entropy', optimizer: { kind: 'Adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } }, init);
    const inShape = model.graph.values[model.graph.inputs[0]].shape.map((d) => d.constant() ?? 64);
    const x = rand(inShape.reduce((a, b) => a * b, 1), 1);
    const y = BigInt64Array.from({ length: 64 }, (_, i) => BigInt(i % 10));
    let r;
    for (let i = 0; i < 30; i++) r = await t.step({ data: x, shape: inShape }, { data: y, shape: [64] });
    console.log(model.name, r!.loss, r!.params[0]);
    const t0 = Date.now(); for (let i = 0; i < 50; i++) await t.step({ data: x, shape: inShape }, { data: y, shape: [64] });
    console.log('steps/s', 50000 / (Date.now() - t0));
  }
})();
