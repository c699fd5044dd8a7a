// A data set download during a run, as `$/progress` messages: one every 100 ms at most
// (a download reports every chunk) plus the end of each file, "downloading MNIST
// train-images-idx3-ubyte.gz: 4.2 MB of 9.9 MB".

import { formatBytes } from '../../../engine/src/data/catalog.js';
import type { DownloadProgress } from '../../../engine/src/data/fetch.js';

const INTERVAL_MS = 100;

export class DownloadProgressReport {
  /** Whether any byte was downloaded (the open documents' NN4008 notes are then stale). */
  happened = false;
  private reportedAt = 0;

  constructor(private readonly send: (value: { message: string }) => void) {}

  report(progress: DownloadProgress): void {
    this.happened = true;
    const now = Date.now();
    const finished = progress.received >= progress.total;
    if (!finished && now - this.reportedAt < INTERVAL_MS) return;
    this.reportedAt = now;
    const done = progress.setTotal > 0 ? ` (${Math.floor((100 * progress.setReceived) / progress.setTotal)}% of ${formatBytes(progress.setTotal)})` : '';
    this.send({ message: `downloading ${progress.title} ${progress.file}: ${formatBytes(progress.received)} of ${formatBytes(progress.total)}${done}` });
  }
}
