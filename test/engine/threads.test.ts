// The TS engine's kernel threads (engine/src/kernels/pool.ts): every split kernel gives
// bit-identical results on one and on several threads (GEMM split by columns and by rows,
// convolution forward and backward, relu, pooling, Adam, whole training steps), the tasks
// really ran split, the workers stop when asked and never keep a process alive, and the
// thread counts are validated.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import * as E from '../../engine/src/index.js';
import { gemm } from '../../engine/src/kernels/gemm.js';
import { kernelThreads, kernelThreadsStarted, setKernelThreads, splitTaskCount, workerHandles } from '../../engine/src/kernels/pool.js';
import { availableCores, resolveThreads } from '../../engine/src/kernels/threads.js';

after(() => setKernelThreads(1));

/**
 * Runs `compute` on one thread and then on `threads`, returning both results (the arrays it
 * returns, copied) and how many tasks ran split on the second run.
 */
async function onOneAndMany(compute: () => ArrayLike<number>[], threads = 3): Promise<{ one: number[][]; many: number[][]; split: number }> {
  setKernelThreads(1);
  const one = compute().map((a) => Array.from(a));
  setKernelThreads(threads);
  await kernelThreadsStarted();
  const before = splitTaskCount();
  const many = compute().map((a) => Array.from(a));
  const split = splitTaskCount() - before;
  setKernelThreads(1);
  return { one, many, split };
}

function assertIdentical(one: number[][], many: number[][]): void {
  assert.equal(one.length, many.length);
  one.forEach((values, i) => {
    assert.equal(values.length, many[i].length);
    const first = values.findIndex((v, j) => !Object.is(v, many[i][j]));
    assert.equal(first, -1, `result ${i} differs at ${first}: ${values[first]} on one thread, ${many[i][first]} on several`);
  });
}

describe('kernels give the same bits on one and on several threads', () => {
  for (const [m, n, k] of [[64, 300, 200], [300, 60, 130], [7, 9001, 40]]) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
        test(`gemm ${dtype} ${m}×${k}·${k}×${n}${transposeA ? ' Aᵀ' : ''}${transposeB ? ' Bᵀ' : ''}, accumulating at an offset`, async () => {
          const rng = new E.Rng(m + n + k);
          const random = (size: number): Float32Array | Float64Array => {
            const values = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
            for (let i = 0; i < size; i++) values[i] = rng.next() * 2 - 1;
            return values;
          };
          const [a, b, start] = [random(m * k), random(k * n), random(m * n + 5)];
          const { one, many, split } = await onOneAndMany(() => {
            const c = start.slice();
            gemm(m, n, k, { data: a, offset: 0, transposed: transposeA }, { data: b, offset: 0, transposed: transposeB }, c, 5, true);
            return [c];
          });
          assert.ok(split >= 1, 'the product ran split');
          assertIdentical(one, many);
        });
      }
    }
  }

  for (const [stride, padding] of [[1, 0], [2, 1]]) {
    for (const dtype of ['float32', 'float64'] as const) {
      test(`conv2d ${dtype} stride ${stride} padding ${padding}: output and the input, weight and bias gradients`, async () => {
        const rng = new E.Rng(7);
        const x = E.randn([32, 8, 15, 15], { rng, dtype }).requireGrad();
        const w = E.randn([16, 8, 3, 3], { rng, dtype }).requireGrad();
        const bias = E.randn([16], { rng, dtype }).requireGrad();
        const upstream = E.randn(E.conv2d(x, w, bias, { stride, padding }).shape, { rng, dtype });
        const { one, many, split } = await onOneAndMany(() => {
          x.grad = w.grad = bias.grad = null;
          const y = E.conv2d(x, w, bias, { stride, padding });
          y.backward(upstream);
          return [y.values, x.grad!.values, w.grad!.values, bias.grad!.values];
        });
        assert.ok(split >= 3, `the convolution's tasks ran split (${split})`);
        assertIdentical(one, many);
      });
    }
  }

  test('relu, max pooling (overlapping windows) and average pooling, forward and backward', async () => {
    const rng = new E.Rng(8);
    const x = E.randn([16, 32, 21, 21], { rng }).requireGrad();
    const { one, many, split } = await onOneAndMany(() => {
      x.grad = null;
      const h = E.relu(x);
      const y = E.add(E.maxPool2d(h, 3, 2, 1), E.avgPool2d(h, 3, 2, 1));
      E.sum(E.mul(y, y)).backward();
      return [h.values, y.values, x.grad!.values];
    });
    assert.ok(split >= 5, `relu and the pools ran split (${split})`);
    assertIdentical(one, many);
  });

  test('ten training steps of a small CNN with Adam end with the same weights', async () => {
    const train = (): Float32Array[] => {
      const rng = new E.Rng(3);
      const x = E.randn([64, 1, 28, 28], { rng });
      const labels = E.randint([64], 10, { rng });
      const conv1 = new E.Conv2d(1, 8, 3, { rng });
      const conv2 = new E.Conv2d(8, 16, 3, { rng });
      const fc = new E.Linear(400, 10, { rng });
      const params = [...conv1.parameters(), ...conv2.parameters(), ...fc.parameters()];
      const optimizer = new E.Adam(params, { lr: 1e-2 });
      for (let step = 0; step < 10; step++) {
        optimizer.zeroGrad();
        const h = E.maxPool2d(E.relu(conv2.forward(E.maxPool2d(E.relu(conv1.forward(x)), 2))), 2);
        E.crossEntropy(fc.forward(E.flatten(h)), labels).backward();
        optimizer.step();
      }
      return params.map((p) => p.values as Float32Array);
    };
    const { one, many, split } = await onOneAndMany(train, 2);
    assert.ok(split >= 50, `the steps' kernels ran split (${split})`);
    assertIdentical(one, many);
  });

  test('Adam on a large parameter', async () => {
    const rng = new E.Rng(9);
    const grad = E.randn([300_000], { rng });
    const { one, many, split } = await onOneAndMany(() => {
      const p = E.randn([300_000], { rng: new E.Rng(10) }).requireGrad();
      const optimizer = new E.Adam([p], { lr: 1e-3, weightDecay: 1e-2 });
      for (let i = 0; i < 3; i++) {
        p.grad = grad;
        optimizer.step();
      }
      return [p.values];
    });
    assert.ok(split >= 3);
    assertIdentical(one, many);
  });
});

describe('the workers', () => {
  test('small tasks stay on the calling thread', async () => {
    setKernelThreads(2);
    await kernelThreadsStarted();
    const before = splitTaskCount();
    E.relu(E.randn([100]));
    E.matmul(E.randn([8, 8]), E.randn([8, 8]));
    assert.equal(splitTaskCount(), before);
    setKernelThreads(1);
  });

  test('stop when the thread count goes back to one', async () => {
    setKernelThreads(3);
    await kernelThreadsStarted();
    const handles = workerHandles();
    assert.equal(handles.length, 2);
    // Referenced again, so that this test waits for their exit events.
    for (const w of handles) w.ref();
    const exits = handles.map((w) => once(w, 'exit'));
    setKernelThreads(1);
    assert.equal(workerHandles().length, 0);
    await Promise.all(exits);
  });

  test('never keep a process alive: a script that used them exits on its own', () => {
    const script = [
      "const E = require('./engine/src/index.ts');",
      "const pool = require('./engine/src/kernels/pool.ts');",
      'pool.setKernelThreads(2);',
      'pool.kernelThreadsStarted().then(() => {',
      '  const before = pool.splitTaskCount();',
      '  E.conv2d(E.randn([32, 8, 15, 15]), E.randn([16, 8, 3, 3]));',
      "  process.stdout.write(String(pool.splitTaskCount() - before));",
      '});',
    ].join('\n');
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '1', 'the convolution ran split');
    assert.ok(Date.now() - started < 60_000);
  });
});

describe('thread counts', () => {
  test('0 or none means every core; a positive integer is taken as is; anything else is refused', () => {
    assert.equal(resolveThreads(undefined), availableCores());
    assert.equal(resolveThreads(0), availableCores());
    assert.equal(resolveThreads(3), 3);
    assert.throws(() => resolveThreads(-1), /non-negative integer/);
    assert.throws(() => resolveThreads(1.5), /non-negative integer/);
    assert.ok(availableCores() >= 1);
  });

  test('the kernel thread count must be a positive integer', () => {
    assert.throws(() => setKernelThreads(0), RangeError);
    assert.throws(() => setKernelThreads(2.5), RangeError);
    setKernelThreads(2);
    assert.equal(kernelThreads(), 2);
    setKernelThreads(1);
    assert.equal(kernelThreads(), 1);
  });
});
