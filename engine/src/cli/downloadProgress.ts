// How `nn train` and `nn probe` show the download of a built-in data set on stderr: a bar
// redrawn in place on a terminal, or a line per file when the output is a log.

import { formatBytes } from '../data/catalog.js';
import type { DownloadProgress } from '../data/fetch.js';

const BAR_WIDTH = 24;

/** A download progress hook writing to `write`; `terminal` redraws one line (at most ten times a second). */
export function downloadReporter(write: (text: string) => void, terminal: boolean, now: () => number = Date.now): (progress: DownloadProgress) => void {
  let file = '';
  let startedAt = 0;
  let drawnAt = 0;
  return (p) => {
    const t = now();
    if (p.file !== file) {
      file = p.file;
      startedAt = t;
      drawnAt = -Infinity;
      if (!terminal) write(p.resumedFrom > 0 ? `resuming ${p.url} at ${formatBytes(p.resumedFrom)} of ${formatBytes(p.total)}\n` : `downloading ${p.url} (${formatBytes(p.total)})\n`);
    }
    const finished = p.received >= p.total;
    if (terminal && (finished || t - drawnAt >= 100)) {
      drawnAt = t;
      const filled = Math.round((Math.min(p.received, p.total) / Math.max(1, p.total)) * BAR_WIDTH);
      const rate = (p.received - p.resumedFrom) / Math.max((t - startedAt) / 1000, 1e-3);
      write(`\rdownloading ${p.title} ${p.file} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${formatBytes(p.received)}/${formatBytes(p.total)} ${formatBytes(rate)}/s\x1b[K${finished ? '\n' : ''}`);
    } else if (!terminal && finished) {
      write(`received ${p.file} (${formatBytes(p.total)}); checking its MD5\n`);
    }
  };
}
