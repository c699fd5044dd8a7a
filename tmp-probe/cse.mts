import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { prepare } from '/work/wt-ckpt/engine/src/run/prepare.js';
import { buildTrainStep } from '/work/wt-ckpt/engine/src/backend-onnx/graphs.js';
import { readFileSync as r } from 'node:fs';
const src = readFileSync('/work/wt-ckpt/test/train/checkpoint.test.ts', 'utf8');
const tmpl = src.slice(src.indexOf('`model Res'), src.indexOf('`;\nconst PLAIN') + 1);
const program = new Function('body', 'key', 'return ' + tmpl) as (b: string, k: string) => string;
for (const body of ['h = res2(res1(h))', 'h = checkpoint(res2(checkpoint(res1(h))))']) {
  const p = prepare(program(body, ''), { baseDir: '.' }) as any;
  const g = buildTrainStep(p.model, p.check.fnIrs, 'cross_entropy', p.train.optimizer, { stats: false, dropout: false, scheduledLr: false, clipGradNorm: null, clipGradValue: null, frozen: [], noDecay: [] } as any);
  const out = `/tmp/ck/opt-${body.length}.onnx`;
  await ort.InferenceSession.create(g.bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: out });
  const text = readFileSync(out).toString('latin1');
  const count = (op: string) => (text.match(new RegExp(`\\x12\\x${op.length.toString(16).padStart(2,'0')}${op}`, 'g')) ?? []).length;
  console.log(body, 'nodes', g.nodes, 'Tanh', text.split('Tanh').length - 1, 'Sigmoid', text.split('Sigmoid').length - 1, 'Gemm', text.split('Gemm').length - 1, 'MatMul', text.split('MatMul').length-1);
}
