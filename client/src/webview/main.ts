/// <reference lib="dom" />
// The Training webview's script (bundled for the browser into dist/webview.js): draws the
// view the extension posts, and asks the extension to reveal a layer or finding on click.

import { gradientFlowSvg, lineChartSvg } from './charts.js';
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

for (const id of ['loss-chart', 'accuracy-chart', 'flow-chart']) {
  const chart = element(id);
  chart.addEventListener('pointerleave', () => {
    const markup = heldBack.get(chart);
    heldBack.delete(chart);
    if (markup !== undefined) drawNow(chart, markup);
  });
}

function render(view: TrainingView): void {
  element('title').textContent = view.title || 'Training';
  element('status').textContent = view.status;
  document.body.classList.toggle('running', view.running);
  draw(
    'loss-chart',
    lineChartSvg(
      [
        { points: view.trainLoss, className: 'train-loss', label: 'train loss' },
        { points: view.testLoss, className: 'test-loss', label: 'test loss', markers: true },
      ],
      { empty: 'No loss yet.' },
    ),
  );
  draw(
    'accuracy-chart',
    lineChartSvg(
      [{ points: view.testAccuracy, className: 'test-accuracy', label: 'test accuracy', markers: true }],
      { yDomain: [0, 1], empty: 'Test accuracy appears after each epoch.' },
    ),
  );
  const flow = view.gradientFlow;
  element('flow-step').textContent = flow === null ? '' : flow.step === null ? '(probe)' : `(step ${flow.step})`;
  draw('flow-chart', gradientFlowSvg(flow?.layers ?? []));
  renderFindings(view);
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
    item.append(code, ` ${finding.layer} (step ${finding.step}): ${finding.message}`);
    const reveal = (): void => host.postMessage({ type: 'revealRange', range: finding.range });
    item.addEventListener('click', reveal);
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') reveal();
    });
    list.append(item);
  }
}

element('flow-chart').addEventListener('click', (event) => {
  const column = event.target instanceof Element ? event.target.closest('[data-layer]') : null;
  const layer = column?.getAttribute('data-layer');
  if (layer) host.postMessage({ type: 'revealLayer', layer });
});

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  if (event.data.type === 'update') render(event.data.view);
});

host.postMessage({ type: 'ready' });
