// Reads the Training view (a webview: an iframe inside an iframe) and checkpoints on disk.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Frame } from 'playwright-core';
import type { Workbench } from './harness/workbench.js';

/** The frame holding the Training view's document, or null while it is not shown. */
export async function trainingViewFrame(bench: Workbench): Promise<Frame | null> {
  for (const frame of bench.page.frames()) {
    if (frame === bench.page.mainFrame()) continue;
    if ((await frame.locator('#loss-chart').count().catch(() => 0)) > 0) return frame;
  }
  return null;
}

export interface ChartSignature {
  /** Points of the drawn training-loss curve (the longest SVG line in the loss chart). */
  lossPoints: number;
  /** The loss chart's markup, to see that it changes between steps. */
  lossMarkup: string;
  /** Bars drawn in the gradient-flow chart. */
  flowBars: number;
  /** The gradient-flow chart's markup, to see that it changes between steps. */
  flowMarkup: string;
}

/** What the two charts show now, read from their SVG. */
export async function chartSignature(frame: Frame): Promise<ChartSignature> {
  return frame.evaluate(`(() => {
    const points = (el) => {
      const d = el.getAttribute('d');
      if (d) return (d.match(/[ML]/g) || []).length;
      return (el.getAttribute('points') || '').trim().split(/\\s+/).filter(Boolean).length;
    };
    const lines = [...document.querySelectorAll('#loss-chart path, #loss-chart polyline')].map(points);
    const flow = document.querySelector('#flow-chart');
    return {
      lossPoints: lines.length ? Math.max(...lines) : 0,
      lossMarkup: document.querySelector('#loss-chart')?.innerHTML ?? '',
      flowBars: flow ? flow.querySelectorAll('rect').length : 0,
      flowMarkup: flow ? flow.innerHTML : '',
    };
  })()`);
}

/** The tensors a .safetensors file declares (its header), after checking the header is whole. */
export function readSafetensorsHeader(path: string): Record<string, unknown> {
  const fd = openSync(path, 'r');
  try {
    const size = Buffer.alloc(8);
    readSync(fd, size, 0, 8, 0);
    const headerBytes = Number(size.readBigUInt64LE(0));
    const header = Buffer.alloc(headerBytes);
    if (readSync(fd, header, 0, headerBytes, 8) !== headerBytes) throw new Error(`${path}: header cut short`);
    const entries = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
    delete entries.__metadata__;
    return entries;
  } finally {
    closeSync(fd);
  }
}
