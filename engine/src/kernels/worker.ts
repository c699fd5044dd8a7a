// Entry of one kernel thread (pool.ts; bundled as dist/kernel-worker.js): waits on its
// control words for a request, runs that task's range (tasks.ts), and reports it done.

import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { runTask } from './tasks.js';
import { CONTROL, SPINS, type TaskMessage } from './pool.js';

const { control, port } = workerData as { control: Int32Array; port: MessagePort };
Atomics.store(control, CONTROL.ready, 1);
let seen = 0;
for (;;) {
  for (let spin = 0; spin < SPINS && Atomics.load(control, CONTROL.request) === seen; spin++);
  while (Atomics.load(control, CONTROL.request) === seen) Atomics.wait(control, CONTROL.request, seen);
  seen = Atomics.load(control, CONTROL.request);
  const message = receiveMessageOnPort(port)?.message as TaskMessage | 'exit' | undefined;
  if (message === 'exit') break;
  try {
    if (!message) throw new Error('a request without its task');
    runTask(message.task, message.arrays, message.scalars, message.first, message.end);
    Atomics.store(control, CONTROL.failed, 0);
  } catch {
    Atomics.store(control, CONTROL.failed, 1);
  }
  Atomics.store(control, CONTROL.done, seen);
  Atomics.notify(control, CONTROL.done);
}
Atomics.store(control, CONTROL.ready, 0);
port.close();
