// The run log: one JSON object per line per run event, in `run.jsonl` beside the checkpoint,
// written afresh by each run (a resumed run continues the same log).

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunEvent } from '../core/events.js';

export class RunLog {
  private fd: number | null;

  /** A new run starts a new log; a resumed run (`append`) continues its log. */
  constructor(readonly path: string, append = false) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, append ? 'a' : 'w');
  }

  write(event: RunEvent): void {
    if (this.fd !== null) writeSync(this.fd, JSON.stringify(event) + '\n');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
