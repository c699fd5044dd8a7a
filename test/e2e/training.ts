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

/** What the Training view shows after a run, besides the loss and gradient-flow charts. */
export interface ViewContent {
  /** The findings list's rows, as read. */
  findings: string[];
  /** Finding marks on the loss curve. */
  lossMarks: number;
  /** Curves of the accuracy chart, by class (`train-accuracy`, `test-accuracy`). */
  accuracyCurves: string[];
  confusionVisible: boolean;
  /** The confusion matrix's cell counts, row by row, and the class names on its axes. */
  confusion: number[][];
  classNames: string[];
  /** The epoch picker's options and the one selected. */
  epochs: string[];
  pickedEpoch: string;
  worstVisible: boolean;
  /** Per worst-sample canvas: its size, and how many distinct grey levels it holds (0 when blank). */
  worst: { width: number; height: number; levels: number; caption: string }[];
}

export async function viewContent(frame: Frame): Promise<ViewContent> {
  return frame.evaluate(`(() => {
    const all = (selector) => [...document.querySelectorAll(selector)];
    const text = (el) => (el.textContent || '').replace(/\\s+/g, ' ').trim();
    const rows = new Map();
    for (const cell of all('#confusion-chart .cell')) {
      const label = Number(cell.getAttribute('data-label'));
      const row = rows.get(label) || [];
      row[Number(cell.getAttribute('data-predicted'))] = Number(text(cell.querySelector('.count')));
      rows.set(label, row);
    }
    const names = all('#confusion-chart .class-name').map(text);
    const picker = document.querySelector('#confusion-epoch');
    return {
      findings: all('#findings .finding').map(text),
      lossMarks: all('#loss-chart .finding-mark').length,
      accuracyCurves: all('#accuracy-chart path.line').map((p) => p.getAttribute('class').replace('line ', '')),
      confusionVisible: !document.querySelector('#confusion-section').hidden,
      confusion: [...rows.keys()].sort((a, b) => a - b).map((k) => rows.get(k)),
      classNames: names.filter((_, i) => i % 2 === 0), // a column's label, then its row's
      epochs: picker ? [...picker.options].map((o) => o.textContent) : [],
      pickedEpoch: picker ? picker.value : '',
      worstVisible: !document.querySelector('#worst-section').hidden,
      worst: all('#worst-samples figure').map((figure) => {
        const canvas = figure.querySelector('canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const levels = new Set();
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] > 0) levels.add(pixels[i]);
        return { width: canvas.width, height: canvas.height, levels: levels.size, caption: text(figure.querySelector('figcaption')) };
      }),
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
