// The TS engine's kernel threads: worker threads (worker.ts) that run kernel tasks
// (tasks.ts) over SharedArrayBuffer memory while the calling thread runs its own share and
// waits on Atomics. A task splits into contiguous ranges of independent items (columns of
// a product, images, planes, elements), so its result does not depend on the thread count.
// Small tasks, and every task where workers cannot start (a browser, a missing worker
// script), run on the calling thread. The workers never keep a process alive (unref).

import type { Worker as NodeWorker, MessagePort as NodeMessagePort } from 'node:worker_threads';
import { runChunks, runTask, type TaskArray, type TaskName } from './tasks.js';

/** Work (inner-loop iterations) below which a task is not worth waking a thread for. */
export const PARALLEL_MIN_WORK = 1 << 17;
/** Arrays at least this long are allocated in shared memory while threads are on. */
const SHARED_MIN_ELEMENTS = 1 << 12;
/**
 * How long a thread polls a control word before sleeping in Atomics.wait: a sleeping thread
 * takes tens of microseconds to wake, about the gap between two kernels of a training step.
 */
export const SPIN_MS = 0.3;
/** Chunks per thread by default: enough to even out a worker that wakes late, few enough to keep each chunk's fixed costs small. */
const CHUNKS_PER_THREAD = 3;

/**
 * The control words of a worker (an Int32Array over shared memory): the last request, the
 * last finished request, whether the worker is running, and whether the last request failed.
 */
export const CONTROL = { request: 0, done: 1, ready: 2, failed: 3 } as const;
const CONTROL_WORDS = 4;

interface PoolWorker {
  worker: NodeWorker;
  port: NodeMessagePort;
  control: Int32Array;
  alive: boolean;
}

/** What a worker receives per request: the task, and how its items are cut into chunks. */
export interface TaskMessage {
  task: TaskName;
  arrays: TaskArray[];
  scalars: number[];
  items: number;
  chunk: number;
}

/** Polls `word` until it differs from `value` for up to SPIN_MS, then sleeps until it does. */
export function awaitChange(control: Int32Array, word: number, value: number): void {
  const started = performance.now();
  for (let polls = 0; Atomics.load(control, word) === value; polls++) {
    if ((polls & 63) === 63 && performance.now() - started > SPIN_MS) {
      while (Atomics.load(control, word) === value) Atomics.wait(control, word, value);
      return;
    }
  }
}

let threads = 1;
let workers: PoolWorker[] = [];
let request = 0;
/** The next chunk of the current request, taken by the calling thread and the workers alike. */
let nextChunk: Int32Array | null = null;
/** Tasks that ran split over two or more threads (for tests and benchmarks). */
let splitTasks = 0;
/** False where workers cannot run (no shared memory, not Node, no worker script). */
let available = typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object';

/** The number of threads kernels use (the calling thread included). */
export function kernelThreads(): number {
  return available ? threads : 1;
}

/**
 * Sets the number of threads kernels use: 1 stops the workers; with more, large new arrays
 * go to shared memory and `n - 1` workers start at the first task large enough to split
 * (they join as soon as they are running). Where workers cannot start, kernels stay on the
 * calling thread.
 */
export function setKernelThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`kernel threads must be a positive integer, got ${n}`);
  if (n === threads) return;
  stopWorkers();
  threads = n;
}

/** Whether a typed array lives in shared memory (workers can read and write it in place). */
export function isShared(array: TaskArray): boolean {
  return available && array.buffer instanceof SharedArrayBuffer;
}

/** Whether new arrays of `size` elements should be shared: threads are on and the array is large. */
export function wantsShared(size: number): boolean {
  return available && threads > 1 && size >= SHARED_MIN_ELEMENTS;
}

type ArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;

/** A zeroed array of `size` elements in shared memory. */
export function sharedArray<C extends ArrayConstructor>(type: C, size: number): InstanceType<C> {
  const buffer = new SharedArrayBuffer(size * type.BYTES_PER_ELEMENT);
  return new (type as Float32ArrayConstructor)(buffer) as unknown as InstanceType<C>;
}

function sharedCopy(array: TaskArray): TaskArray {
  const type = array.constructor as ArrayConstructor;
  const copy = sharedArray(type, array.length);
  copy.set(array as never);
  return copy;
}

/**
 * Runs `task` over items [0, items): on the calling thread when `work` is under
 * PARALLEL_MIN_WORK or no worker is running, else in `chunksPerThread` chunks per thread
 * that the calling thread and the workers take in turn until none is left (a task whose
 * chunks each repeat a fixed cost, as a product packing its other operand does, takes one).
 * Arrays not in shared memory are copied there for the task (the indices in `written` are
 * copied back), so any array works.
 */
export function parallelFor(task: TaskName, items: number, work: number, arrays: TaskArray[], written: readonly number[], scalars: number[], chunksPerThread = CHUNKS_PER_THREAD): void {
  if (work >= PARALLEL_MIN_WORK && available && workers.length < threads - 1) workers = startWorkers(threads - 1);
  const ready = work >= PARALLEL_MIN_WORK ? workers.filter((w) => w.alive && Atomics.load(w.control, CONTROL.ready) === 1) : [];
  const parts = Math.min(ready.length + 1, items);
  if (parts < 2) {
    runTask(task, arrays, scalars, 0, items);
    return;
  }
  splitTasks++;
  const shared = arrays.map((a) => (isShared(a) ? a : sharedCopy(a)));
  const chunk = Math.ceil(items / (parts * chunksPerThread));
  const counter = nextChunk as Int32Array;
  Atomics.store(counter, 0, 0);
  request++;
  const helpers = ready.slice(0, parts - 1);
  const message: TaskMessage = { task, arrays: shared, scalars, items, chunk };
  for (const { port, control } of helpers) {
    port.postMessage(message);
    Atomics.store(control, CONTROL.request, request);
    Atomics.notify(control, CONTROL.request);
  }
  let failure: unknown = null;
  try {
    runChunks(task, shared, scalars, items, chunk, counter);
  } catch (error) {
    failure = error;
  }
  for (const { control } of helpers) {
    for (let done = Atomics.load(control, CONTROL.done); done !== request; done = Atomics.load(control, CONTROL.done)) awaitChange(control, CONTROL.done, done);
    if (Atomics.load(control, CONTROL.failed) === 1) failure ??= new Error(`kernel task ${task} failed in a worker thread`);
  }
  if (failure) throw failure;
  for (const index of written) if (shared[index] !== arrays[index]) arrays[index].set(shared[index] as never);
}

/**
 * The worker script and the Node options it needs: from a bundle, dist/kernel-worker.js
 * beside it; from source (under tsx), worker.ts beside this file, loaded through tsx's
 * require hook (a worker does not inherit the `--import tsx` hooks). Null when neither works.
 */
function workerScript(): { file: string; execArgv?: string[] } | null {
  const { existsSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  if (!__filename.endsWith('.ts')) {
    const file = join(__dirname, 'kernel-worker.js');
    return existsSync(file) ? { file } : null;
  }
  try {
    // Inherited, `--import tsx` sends a .ts worker to the ESM loader without tsx's hooks.
    const execArgv: string[] = [];
    for (let i = 0; i < process.execArgv.length; i++) {
      const arg = process.execArgv[i];
      if (arg === '--import' && /tsx/.test(process.execArgv[i + 1] ?? '')) i++;
      else if (!(arg.startsWith('--import=') && /tsx/.test(arg))) execArgv.push(arg);
    }
    return { file: join(__dirname, 'worker.ts'), execArgv: [...execArgv, '--require', require.resolve('tsx/cjs')] };
  } catch {
    return null;
  }
}

/** Starts `count` workers; none (and kernels stay on one thread from then on) where they cannot run. */
function startWorkers(count: number): PoolWorker[] {
  const started: PoolWorker[] = [];
  try {
    if (typeof process === 'undefined' || !process.versions?.node) throw new Error('not Node');
    const { Worker, MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
    const script = workerScript();
    if (!script) throw new Error('no kernel worker script');
    nextChunk ??= new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
      const { port1, port2 } = new MessageChannel();
      const workerData = { control, nextChunk, port: port2 };
      const worker = new Worker(script.file, { execArgv: script.execArgv, workerData, transferList: [port2] });
      const entry: PoolWorker = { worker, port: port1, control, alive: true };
      // A worker that fails to start or dies is left out from then on.
      worker.on('error', () => { entry.alive = false; });
      worker.on('exit', () => { entry.alive = false; });
      worker.unref();
      port1.unref();
      started.push(entry);
    }
    return started;
  } catch {
    for (const w of started) void w.worker.terminate();
    available = false;
    return [];
  }
}

/** Asks each worker to leave its loop (it then exits on its own). */
function stopWorkers(): void {
  request++;
  for (const w of workers) {
    w.alive = false;
    w.port.postMessage('exit');
    Atomics.store(w.control, CONTROL.request, request);
    Atomics.notify(w.control, CONTROL.request);
  }
  workers = [];
}

/**
 * Starts the workers now and resolves when every one runs (at once without workers), so
 * that the next tasks split over all the threads rather than only those already running.
 */
export async function kernelThreadsStarted(): Promise<void> {
  if (available && workers.length < threads - 1) workers = startWorkers(threads - 1);
  while (workers.some((w) => w.alive && Atomics.load(w.control, CONTROL.ready) !== 1)) await new Promise((done) => setTimeout(done, 5));
}

/** How many tasks so far ran split over two or more threads. */
export function splitTaskCount(): number {
  return splitTasks;
}

/** The workers' Node objects, for tests that check their lifetime. */
export function workerHandles(): readonly NodeWorker[] {
  return workers.map((w) => w.worker);
}
