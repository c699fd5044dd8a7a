/// <reference lib="dom" />
// The Training webview's script (bundled for the browser into dist/webview.js): draws the
// view the extension posts, and asks the extension to reveal a layer or finding on click.

import { gradientFlowSvg, lineChartSvg, type StepMark } from './charts.js';
import { confusionSvg } from './confusion.js';
import { sampleCaption, sampleImage } from './samples.js';
import type { HostMessage, TrainingView, WebviewMessage } from './view.js';
import './training.css';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const host = acquireVsCodeApi();

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The Training view's page has no #${id}.`);
  return found;
}

/** Markup held back while the pointer is over its chart, drawn when the pointer leaves. */
const heldBack = new Map<HTMLElement, string>();
/** The markup each chart shows (innerHTML reads back reserialized, so it cannot tell). */
const drawn = new Map<HTMLElement, string>();

function drawNow(chart: HTMLElement, markup: string): void {
  if (drawn.get(chart) === markup) return;
  chart.innerHTML = markup;
  drawn.set(chart, markup);
}

/**
 * Redraws a chart, except under the pointer: during a run the charts change several times a
 * second, and a redraw would close a tooltip or swallow a click on a layer bar.
 */
function draw(id: string, markup: string): void {
  const chart = element(id);
  if (chart.matches(':hover')) heldBack.set(chart, markup);
  else drawNow(chart, markup);
}

for (const id of ['loss-chart', 'accuracy-chart', 'flow-chart', 'confusion-chart']) {
  const chart = element(id);
  chart.addEventListener('pointerleave', () => {
    const markup = heldBack.get(chart);
    heldBack.delete(chart);
    if (markup !== undefined) drawNow(chart, markup);
  });
}

/** The view last drawn, redrawn when the epoch picker changes. */
let current: TrainingView | null = null;
/** The epoch the confusion matrix shows, when the user picked one; null follows the latest. */
let pickedEpoch: number | null = null;

function render(view: TrainingView): void {
  current = view;
  element('title').textContent = view.title || 'Training';
  element('status').textContent = view.status;
  document.body.classList.toggle('running', view.running);
  document.querySelectorAll('.split-name').forEach((name) => (name.textContent = view.evaluatedSplit));
  const split = view.evaluatedSplit;
  const marks: StepMark[] = view.findings.map((f, index) => ({
    x: f.step,
    severity: f.severity,
    label: `${f.code} at step ${f.step}${f.line === null ? '' : `, line ${f.line}`}: ${f.message}`,
    finding: index,
  }));
  draw(
    'loss-chart',
    lineChartSvg(
      [
        { points: view.trainLoss, className: 'train-loss', label: 'train loss' },
        { points: view.testLoss, className: 'test-loss', label: `${split} loss`, markers: true },
      ],
      { empty: 'No loss yet.', marks: view.trainLoss.length > 0 ? marks : [] },
    ),
  );
  draw(
    'accuracy-chart',
    lineChartSvg(
      [
        { points: view.trainAccuracy, className: 'train-accuracy', label: 'train accuracy', markers: true },
        { points: view.testAccuracy, className: 'test-accuracy', label: `${split} accuracy`, markers: true },
      ],
      { yDomain: [0, 1], empty: 'Accuracy appears after each epoch.' },
    ),
  );
  const flow = view.gradientFlow;
  element('flow-step').textContent = flow === null ? '' : flow.step === null ? '(probe)' : `(step ${flow.step})`;
  draw('flow-chart', gradientFlowSvg(flow?.layers ?? []));
  renderFindings(view);
  renderConfusion(view);
  renderWorst(view);
}

/** The epoch picker and the matrix of the picked epoch (the latest unless one was picked). */
function renderConfusion(view: TrainingView): void {
  const section = element('confusion-section');
  section.hidden = view.confusion.length === 0;
  if (section.hidden) return;
  const picker = element('confusion-epoch') as HTMLSelectElement;
  const epochs = view.confusion.map((m) => m.epoch);
  if (pickedEpoch !== null && !epochs.includes(pickedEpoch)) pickedEpoch = null;
  const shown = pickedEpoch ?? epochs[epochs.length - 1];
  if (picker.options.length !== epochs.length) {
    picker.replaceChildren(
      ...epochs.map((epoch) => {
        const option = document.createElement('option');
        option.value = String(epoch);
        option.textContent = `epoch ${epoch + 1}`;
        return option;
      }),
    );
  }
  picker.value = String(shown);
  const matrix = view.confusion.find((m) => m.epoch === shown)!;
  draw('confusion-chart', confusionSvg(matrix.counts, view.classNames ?? []));
}

/** The latest epoch's worst samples, each on a canvas at its own resolution (scaled up by CSS). */
function renderWorst(view: TrainingView): void {
  const section = element('worst-section');
  const worst = view.worst;
  section.hidden = worst === null || worst.samples.length === 0;
  if (worst === null) return;
  const grid = element('worst-samples');
  const key = `${worst.epoch}:${worst.samples.map((s) => s.index).join(',')}`;
  if (grid.dataset.shown === key) return;
  grid.dataset.shown = key;
  element('worst-epoch').textContent = `(epoch ${worst.epoch + 1})`;
  grid.replaceChildren(
    ...worst.samples.map((sample) => {
      const image = sampleImage(sample);
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      canvas.getContext('2d')?.putImageData(new ImageData(image.rgba, image.width, image.height), 0, 0);
      const caption = sampleCaption(sample, view.classNames);
      const figure = document.createElement('figure');
      figure.className = 'sample';
      figure.title = caption.tooltip;
      const text = document.createElement('figcaption');
      const truth = document.createElement('span');
      truth.className = 'truth';
      truth.textContent = caption.truth;
      const guess = document.createElement('span');
      guess.className = 'guess';
      guess.textContent = caption.guess;
      text.append(truth, guess);
      figure.append(canvas, text);
      return figure;
    }),
  );
}

function renderFindings(view: TrainingView): void {
  const list = element('findings');
  list.replaceChildren();
  if (view.findings.length === 0) {
    const none = document.createElement('li');
    none.className = 'none';
    none.textContent = 'None so far.';
    list.append(none);
    return;
  }
  for (const finding of view.findings) {
    const item = document.createElement('li');
    item.className = `finding ${finding.severity}`;
    item.tabIndex = 0;
    item.title = 'Show in the editor';
    const code = document.createElement('span');
    code.className = 'code';
    code.textContent = finding.code;
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = finding.line === null ? finding.layer : `line ${finding.line}`;
    item.append(code, ' ', where, ` ${finding.line === null ? '' : `${finding.layer} `}(step ${finding.step}): ${finding.message}`);
    const reveal = (): void => host.postMessage({ type: 'revealRange', range: finding.range });
    item.addEventListener('click', reveal);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') reveal();
    });
    list.append(item);
  }
}

element('loss-chart').addEventListener('click', (event) => {
  const mark = event.target instanceof Element ? event.target.closest('[data-finding]') : null;
  const finding = current?.findings[Number(mark?.getAttribute('data-finding'))];
  if (mark && finding) host.postMessage({ type: 'revealRange', range: finding.range });
});

element('confusion-epoch').addEventListener('change', (event) => {
  const epochs = current?.confusion.map((m) => m.epoch) ?? [];
  const picked = Number((event.target as HTMLSelectElement).value);
  // Picking the latest epoch follows the run again as new epochs arrive.
  pickedEpoch = picked === epochs[epochs.length - 1] ? null : picked;
  if (current) renderConfusion(current);
});

element('flow-chart').addEventListener('click', (event) => {
  const column = event.target instanceof Element ? event.target.closest('[data-layer]') : null;
  const layer = column?.getAttribute('data-layer');
  if (layer) host.postMessage({ type: 'revealLayer', layer });
});

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  if (event.data.type === 'update') render(event.data.view);
});

host.postMessage({ type: 'ready' });
