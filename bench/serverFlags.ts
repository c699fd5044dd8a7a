// Benchmarks of what the language server runs measure it under the server's Node options:
// this process has them, or re-runs itself in a child process that has.

import { spawnSync } from 'node:child_process';
import { serverExecArgv } from '../server/src/protocol.js';

/** Whether this process was started with the language server's Node options. */
export const underServerFlags = serverExecArgv.every((flag) => process.execArgv.includes(flag));

/** Runs this script again, to its end, in a child process started with the server's Node options. */
export function rerunUnderServerFlags(): void {
  spawnSync(process.execPath, [...serverExecArgv, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
}
