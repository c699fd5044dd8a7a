// Keyed debouncing: one pending callback per key, a newer call replacing the older, so work
// for a document is never queued more than once however fast edits arrive.

/** A scheduled callback that can still be called off. */
interface Pending {
  cancel(): void;
}

function after(delayMs: number, run: () => void): Pending {
  const timer = setTimeout(run, delayMs);
  return { cancel: () => clearTimeout(timer) };
}

/**
 * Runs `run` once the messages already received have been handled. The JSON-RPC connection
 * handles one message per turn of the event loop (a `setImmediate` each), so two turns
 * without a newer call (which replaces this one) mean its queue is empty.
 */
function afterQueuedMessages(run: () => void): Pending {
  let immediate = setImmediate(() => {
    immediate = setImmediate(run);
  });
  return { cancel: () => clearImmediate(immediate) };
}

export class Debouncer {
  private readonly pending = new Map<string, Pending>();

  /** Runs `run` after `delayMs`, or with 0 as soon as the messages already received are handled. */
  schedule(key: string, delayMs: number, run: () => void): void {
    this.cancel(key);
    const fire = () => {
      this.pending.delete(key);
      run();
    };
    this.pending.set(key, delayMs > 0 ? after(delayMs, fire) : afterQueuedMessages(fire));
  }

  cancel(key: string): void {
    this.pending.get(key)?.cancel();
    this.pending.delete(key);
  }
}
