// Engine benchmark: matmul and conv2d throughput and training steps per second (forward,
// backward, SGD) for an MLP and a small CNN, each against TensorFlow.js's pure-JS CPU
// backend on the same shapes, printed as ratios: on one thread in CPU seconds, then ours on
// every core (the kernel threads) in wall seconds, against ours on one thread in wall seconds.
// Run: npx tsx bench/engine/run.ts

import * as tf from '@tensorflow/tfjs';
import * as E from '../../engine/src/index.js';
import { kernelThreadsStarted, setKernelThreads } from '../../engine/src/kernels/pool.js';
import { availableCores } from '../../engine/src/kernels/threads.js';

/** CPU seconds used by this process: on a shared machine, wall time would count other jobs. */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

const wallSeconds = (): number => performance.now() / 1000;

/**
 * Mean seconds per call of `fn` on `clock` (CPU seconds by default) over at least
 * `minSeconds` after a warm-up call; a call slower than that is its own measurement (the
 * JIT warm-up is negligible there), which keeps the slow baselines from dominating the run time.
 */
function timeIt(fn: () => void, minSeconds = 0.6, clock = cpuSeconds): number {
  const warmUpStart = clock();
  fn();
  const warmUp = clock() - warmUpStart;
  if (warmUp >= minSeconds) return warmUp;
  let calls = 0;
  const start = clock();
  let elapsed = 0;
  while (calls < 2 || elapsed < minSeconds) {
    fn();
    calls++;
    elapsed = clock() - start;
  }
  return elapsed / calls;
}

interface Row {
  name: string;
  unit: string;
  ours: number;
  tfjs: number;
}

const rows: Row[] = [];
function report(row: Row): void {
  rows.push(row);
  const ratio = row.ours / row.tfjs;
  console.log(`${row.name.padEnd(48)} ours ${row.ours.toFixed(2).padStart(8)} ${row.unit.padEnd(8)} tfjs-cpu ${row.tfjs.toFixed(2).padStart(8)}   ratio ${ratio.toFixed(2)}×`);
}

function benchMatmul(n: number): void {
  const rng = new E.Rng(n);
  const a = E.randn([n, n], { rng });
  const b = E.randn([n, n], { rng });
  const flops = 2 * n * n * n;
  const ours = timeIt(() => E.matmul(a, b));
  const ta = tf.tensor2d(a.values as Float32Array, [n, n]);
  const tb = tf.tensor2d(b.values as Float32Array, [n, n]);
  const theirs = timeIt(() => tf.tidy(() => tf.matMul(ta, tb).dataSync()));
  tf.dispose([ta, tb]);
  report({ name: `matmul ${n}×${n}×${n}`, unit: 'GFLOP/s', ours: flops / ours / 1e9, tfjs: flops / theirs / 1e9 });
}

function benchConv(batch: number, cin: number, size: number, cout: number, k: number): void {
  const rng = new E.Rng(1);
  const x = E.randn([batch, cin, size, size], { rng });
  const w = E.randn([cout, cin, k, k], { rng });
  const out = size - k + 1;
  const flops = 2 * batch * cout * out * out * cin * k * k;
  const ours = timeIt(() => E.conv2d(x, w));
  const tx = tf.randomNormal([batch, size, size, cin]) as tf.Tensor4D;
  const tw = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
  const theirs = timeIt(() => tf.tidy(() => tf.conv2d(tx, tw, 1, 'valid').dataSync()));
  tf.dispose([tx, tw]);
  report({ name: `conv2d fwd [${batch},${cin},${size},${size}] k${k}→${cout}`, unit: 'GFLOP/s', ours: flops / ours / 1e9, tfjs: flops / theirs / 1e9 });
}

const BATCH = 64;
const LR = 0.01;

function batchData(rng: E.Rng, sample: number[]): { x: E.Tensor; y: E.Tensor; tx: tf.Tensor; ty: tf.Tensor } {
  const x = E.randn([BATCH, ...sample], { rng });
  const y = E.randint([BATCH], 10, { rng });
  const tx = tf.tensor(x.values as Float32Array, [BATCH, ...sample]);
  const ty = tf.oneHot(tf.tensor1d(Array.from(y.data), 'int32'), 10);
  return { x, y, tx, ty };
}

function ourStep(forward: () => E.Tensor, labels: E.Tensor, optimizer: E.Optimizer): void {
  optimizer.zeroGrad();
  const loss = E.crossEntropy(forward(), labels);
  loss.backward();
  optimizer.step();
}

function theirStep(forward: () => tf.Tensor, labels: tf.Tensor, optimizer: tf.Optimizer): void {
  tf.tidy(() => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, forward()) as tf.Scalar, true);
    loss?.dataSync();
  });
}

/** Our MLP's training step on a fixed batch; the tfjs inputs of the same batch. */
function mlpStep(): { step: () => void; tx: tf.Tensor; ty: tf.Tensor } {
  const rng = new E.Rng(2);
  const { x, y, tx, ty } = batchData(rng, [784]);
  const fc1 = new E.Linear(784, 256, { rng });
  const fc2 = new E.Linear(256, 128, { rng });
  const fc3 = new E.Linear(128, 10, { rng });
  const optimizer = new E.SGD([...fc1.parameters(), ...fc2.parameters(), ...fc3.parameters()], { lr: LR });
  return { step: () => ourStep(() => fc3.forward(E.relu(fc2.forward(E.relu(fc1.forward(x))))), y, optimizer), tx, ty };
}

function benchMlp(): void {
  const { step, tx, ty } = mlpStep();
  const ours = timeIt(step);

  const dense = (inF: number, outF: number) => ({ w: tf.variable(tf.randomUniform([inF, outF], -0.05, 0.05)), b: tf.variable(tf.zeros([outF])) });
  const [l1, l2, l3] = [dense(784, 256), dense(256, 128), dense(128, 10)];
  const apply = (l: { w: tf.Variable; b: tf.Variable }, h: tf.Tensor) => tf.add(tf.matMul(h as tf.Tensor2D, l.w as tf.Tensor2D), l.b);
  const sgd = tf.train.sgd(LR);
  const theirs = timeIt(() => theirStep(() => apply(l3, tf.relu(apply(l2, tf.relu(apply(l1, tx))))), ty, sgd));
  report({ name: 'train step MLP 784-256-128-10, B=64', unit: 'steps/s', ours: 1 / ours, tfjs: 1 / theirs });
}

/** Our small CNN's training step on a fixed batch; the tfjs inputs of the same batch. */
function cnnStep(): { step: () => void; tx: tf.Tensor; ty: tf.Tensor } {
  const rng = new E.Rng(3);
  const { x, y, tx, ty } = batchData(rng, [1, 28, 28]);
  const conv1 = new E.Conv2d(1, 8, 3, { rng });
  const conv2 = new E.Conv2d(8, 16, 3, { rng });
  const fc = new E.Linear(16 * 5 * 5, 10, { rng });
  const optimizer = new E.SGD([...conv1.parameters(), ...conv2.parameters(), ...fc.parameters()], { lr: LR });
  const forward = () => {
    const h1 = E.maxPool2d(E.relu(conv1.forward(x)), 2); // [64, 8, 13, 13]
    const h2 = E.maxPool2d(E.relu(conv2.forward(h1)), 2); // [64, 16, 5, 5]
    return fc.forward(E.flatten(h2));
  };
  return { step: () => ourStep(forward, y, optimizer), tx, ty };
}

function benchCnn(): void {
  const { step, tx, ty } = cnnStep();
  const ours = timeIt(step);

  const txNhwc = tf.transpose(tx, [0, 2, 3, 1]);
  const k1 = tf.variable(tf.randomUniform([3, 3, 1, 8], -0.3, 0.3));
  const b1 = tf.variable(tf.zeros([8]));
  const k2 = tf.variable(tf.randomUniform([3, 3, 8, 16], -0.1, 0.1));
  const b2 = tf.variable(tf.zeros([16]));
  const wf = tf.variable(tf.randomUniform([400, 10], -0.05, 0.05));
  const bf = tf.variable(tf.zeros([10]));
  const sgd = tf.train.sgd(LR);
  const theirForward = () => {
    const h1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(txNhwc as tf.Tensor4D, k1 as tf.Tensor4D, 1, 'valid'), b1)) as tf.Tensor4D, 2, 2, 'valid');
    const h2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(h1, k2 as tf.Tensor4D, 1, 'valid'), b2)) as tf.Tensor4D, 2, 2, 'valid');
    return tf.add(tf.matMul(tf.reshape(h2, [BATCH, 400]) as tf.Tensor2D, wf as tf.Tensor2D), bf);
  };
  const theirs = timeIt(() => theirStep(theirForward, ty, sgd));
  report({ name: 'train step CNN (conv8,pool,conv16,pool,fc), B=64', unit: 'steps/s', ours: 1 / ours, tfjs: 1 / theirs });
}

/**
 * Ours on every core against ours on one thread, both in wall seconds: `build` makes the
 * work (after the thread count is set, so its tensors are in shared memory) and how much
 * one call does, in `unit`s.
 */
async function benchThreads(name: string, unit: string, build: () => { call: () => void; amount: number }): Promise<void> {
  const rates: number[] = [];
  for (const threads of [1, availableCores()]) {
    setKernelThreads(threads);
    await kernelThreadsStarted();
    const { call, amount } = build();
    rates.push(amount / timeIt(call, 1, wallSeconds));
  }
  setKernelThreads(1);
  const [one, all] = rates;
  console.log(`${name.padEnd(48)} 1 thread ${one.toFixed(2).padStart(8)} ${unit.padEnd(8)} ${availableCores()} threads ${all.toFixed(2).padStart(8)}   ratio ${(all / one).toFixed(2)}×`);
}

function randomPair(a: number[], b: number[]): [E.Tensor, E.Tensor] {
  const rng = new E.Rng(1);
  return [E.randn(a, { rng }), E.randn(b, { rng })];
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  console.log(`NN Studio engine vs TensorFlow.js ${tf.version.tfjs} (backend ${tf.getBackend()}), one thread, float32, timed in process CPU seconds`);
  for (const n of [256, 512, 1024]) benchMatmul(n);
  benchConv(64, 8, 13, 16, 3);
  benchConv(16, 16, 32, 32, 3);
  benchMlp();
  benchCnn();
  console.log(`\nNN Studio engine on ${availableCores()} threads (the kernel threads) against one thread, timed in wall seconds`);
  for (const n of [512, 1024]) {
    await benchThreads(`matmul ${n}×${n}×${n}`, 'GFLOP/s', () => {
      const [a, b] = randomPair([n, n], [n, n]);
      return { call: () => E.matmul(a, b), amount: (2 * n ** 3) / 1e9 };
    });
  }
  for (const [batch, cin, size, cout] of [[64, 8, 13, 16], [16, 16, 32, 32]]) {
    await benchThreads(`conv2d fwd [${batch},${cin},${size},${size}] k3→${cout}`, 'GFLOP/s', () => {
      const [x, w] = randomPair([batch, cin, size, size], [cout, cin, 3, 3]);
      return { call: () => E.conv2d(x, w), amount: (2 * batch * cout * (size - 2) ** 2 * cin * 9) / 1e9 };
    });
  }
  await benchThreads('train step MLP 784-256-128-10, B=64', 'steps/s', () => ({ call: mlpStep().step, amount: 1 }));
  await benchThreads('train step CNN (conv8,pool,conv16,pool,fc), B=64', 'steps/s', () => ({ call: cnnStep().step, amount: 1 }));
}

void main();
