// How many threads a run uses: the count asked for (`nn.threads`, `--threads`), where 0 or
// none means every core the process may run on.

/** The cores this process may use; 1 where that cannot be known (a browser without the hint). */
export function availableCores(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof process !== 'undefined' && process.versions?.node) {
    const os = require('node:os') as typeof import('node:os');
    return Math.max(1, os.availableParallelism());
  }
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** The thread count for a request: a positive integer as is, 0 or undefined for every core. */
export function resolveThreads(requested: number | undefined): number {
  if (requested === undefined || requested === 0) return availableCores();
  if (!Number.isInteger(requested) || requested < 0) throw new RangeError(`threads must be a non-negative integer, got ${requested}`);
  return requested;
}
