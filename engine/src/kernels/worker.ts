// Entry of one kernel thread (pool.ts; bundled as dist/kernel-worker.js): waits on its
// control words for a request, takes chunks of that task (tasks.ts) until none is left, and
// reports it done.

import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { runChunks } from './tasks.js';
import { awaitChange, CONTROL, type TaskMessage } from './pool.js';

const { control, nextChunk, port } = workerData as { control: Int32Array; nextChunk: Int32Array; port: MessagePort };
Atomics.store(control, CONTROL.ready, 1);
let seen = 0;
for (;;) {
  awaitChange(control, CONTROL.request, seen);
  seen = Atomics.load(control, CONTROL.request);
  const message = receiveMessageOnPort(port)?.message as TaskMessage | 'exit' | undefined;
  if (message === 'exit') break;
  try {
    if (!message) throw new Error('a request without its task');
    runChunks(message.task, message.arrays, message.scalars, message.items, message.chunk, nextChunk);
    Atomics.store(control, CONTROL.failed, 0);
  } catch {
    Atomics.store(control, CONTROL.failed, 1);
  }
  Atomics.store(control, CONTROL.done, seen);
  Atomics.notify(control, CONTROL.done);
}
Atomics.store(control, CONTROL.ready, 0);
port.close();
