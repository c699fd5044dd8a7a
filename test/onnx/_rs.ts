import { OnnxGraphBuilder } from '../../engine/src/onnx/builder.js';
import * as ort from 'onnxruntime-node';
(async () => {
  const variants: Record<string, (b: OnnxGraphBuilder) => string> = {
    reduceSum0: (b) => b.op1('ReduceSum', ['g', b.constInt([0])], { keepdims: 0 }),
    matmulOnes: (b) => { const ones = b.op1('ConstantOfShape', [b.op1('Shape', ['g'], { start: 0, end: 1 })], {}); return b.op1('MatMul', [b.op1('Cast', [b.op1('Cast', [ones], { to: 9 })], { to: 1 }), 'g']); },
    gemmT: (b) => b.op1('ReduceSum', [b.op1('Transpose', ['g'], { perm: [1, 0] }), b.constInt([1])], { keepdims: 0 }),
    mul: (b) => b.op1('Mul', ['w', b.constFloat(0.9)]),
    addsub: (b) => b.op1('Sub', ['w', b.op1('Mul', [b.op1('Add', [b.op1('Mul', ['w', b.constFloat(0.9)]), 'w']), b.constFloat(0.01)])]),
  };
  for (const [name, f] of Object.entries(variants)) {
    const b = new OnnxGraphBuilder('t');
    b.addInput('g', 'float32', ['B', 256]);
    b.addInput('w', 'float32', [256, 784]);
    b.addOutput('y', f(b), 'float32');
    const s = await ort.InferenceSession.create(b.toBytes(), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const feeds = { g: new ort.Tensor('float32', new Float32Array(64 * 256).fill(1), [64, 256]), w: new ort.Tensor('float32', new Float32Array(256 * 784).fill(1), [256, 784]) };
    for (let i = 0; i < 100; i++) await s.run(feeds);
    const c0 = process.cpuUsage(); const N = 1000; for (let i = 0; i < N; i++) await s.run(feeds); const c = process.cpuUsage(c0);
    console.log(name, 'us/run', ((c.user + c.system) / N).toFixed(1));
  }
})();
