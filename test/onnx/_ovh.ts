import { OnnxGraphBuilder } from '../../engine/src/onnx/builder.js';
import * as ort from 'onnxruntime-node';
(async () => {
  for (const n of [1, 50, 200]) {
    const b = new OnnxGraphBuilder('t');
    b.addInput('x', 'float32', [4]);
    let v = 'x';
    for (let i = 0; i < n; i++) v = b.op1('Add', [v, b.constFloat(1)]);
    b.addOutput('y', v, 'float32', [4]);
    const s = await ort.InferenceSession.create(b.toBytes(), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const feeds = { x: new ort.Tensor('float32', new Float32Array(4), [4]) };
    for (let i = 0; i < 100; i++) await s.run(feeds);
    const c0 = process.cpuUsage(); const N = 2000; for (let i = 0; i < N; i++) await s.run(feeds); const c = process.cpuUsage(c0);
    console.log(n, 'nodes: us/run', ((c.user + c.system) / N).toFixed(1));
  }
})();
