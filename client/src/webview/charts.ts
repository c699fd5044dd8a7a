// Small chart kit for the Training view: linear and log scales, their ticks, and SVG markup
// for line charts and the gradient-flow bars. Pure string building (no DOM), so it runs and
// is tested in Node; the webview only puts the markup into the page.

import { formatGradient, formatPercent } from '../training/format.js';
import type { LayerGradient, Point } from './view.js';

export type Scale = (value: number) => number;

export interface Box {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** Log10 scale; values at or below zero land on the domain's lower end. */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  const toLinear = linearScale([Math.log10(domain[0]), Math.log10(domain[1])], range);
  return (value) => toLinear(Math.log10(Math.max(value, domain[0])));
}

/** 10^exponent as the closest double (`10 ** -5` is 0.000009999999999999999). */
function powerOfTen(exponent: number): number {
  return Number(`1e${exponent}`);
}

/** Whole decades around the positive values; one decade around 1 when there are none. */
export function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return [0.1, 1];
  let low = Math.floor(Math.log10(Math.min(...positive)));
  const high = Math.ceil(Math.log10(Math.max(...positive)));
  if (low === high) low -= 1;
  return [powerOfTen(low), powerOfTen(high)];
}

/** Powers of ten inside the domain, every k-th decade so that there are at most `maxTicks`. */
export function logTicks(domain: [number, number], maxTicks = 7): number[] {
  const low = Math.round(Math.log10(domain[0]));
  const high = Math.round(Math.log10(domain[1]));
  const every = Math.max(1, Math.ceil((high - low + 1) / maxTicks));
  const ticks: number[] = [];
  for (let exponent = low; exponent <= high; exponent += every) ticks.push(powerOfTen(exponent));
  return ticks;
}

/** Round-numbered ticks (steps of 1, 2 or 5 × 10^k) covering [min, max]. */
export function linearTicks(min: number, max: number, maxTicks = 6): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / maxTicks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Number(tick.toPrecision(12)));
  }
  return ticks;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function tickLabel(value: number): string {
  if (value === 0) return '0';
  const exponent = Math.log10(Math.abs(value));
  return Math.abs(exponent) >= 4 && Number.isInteger(Math.round(exponent * 1e9) / 1e9)
    ? `1e${Math.round(exponent)}`
    : Number(value.toPrecision(4)).toString();
}

export interface Series {
  points: Point[];
  /** CSS class of the path: its colour comes from the extension's stylesheet. */
  className: string;
  label: string;
  /** Draw a dot at each point, for sparse series such as one value per epoch. */
  markers?: boolean;
}

/** A vertical mark at a step: where a finding appeared on the loss curve. */
export interface StepMark {
  x: number;
  severity: 'warning' | 'error';
  /** The tooltip. */
  label: string;
  /** Which finding it marks (the index the webview reveals on click). */
  finding: number;
}

const LINE_BOX: Box = { width: 600, height: 200, top: 14, right: 12, bottom: 26, left: 56 };

/** A line chart over training steps; `yDomain` fixes the y range (e.g. [0, 1] for accuracy); `marks` flag steps. */
export function lineChartSvg(series: Series[], options: { yDomain?: [number, number]; empty: string; marks?: StepMark[] }): string {
  const box = LINE_BOX;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return emptySvg(box, options.empty);
  const marks = options.marks ?? [];
  const xs = [...all.map((p) => p.x), ...marks.map((m) => m.x)];
  const ys = all.map((p) => p.y);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const [yMin, yMax] = options.yDomain ?? paddedDomain(Math.min(...ys), Math.max(...ys));
  const x = linearScale([xMin, xMax], [box.left, box.width - box.right]);
  const y = linearScale([yMin, yMax], [box.height - box.bottom, box.top]);
  const parts: string[] = [svgOpen(box)];
  for (const tick of linearTicks(yMin, yMax, 5)) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${box.left}" x2="${box.width - box.right}" y1="${ty}" y2="${ty}"/>`);
    parts.push(`<text class="tick" x="${box.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tickLabel(tick)}</text>`);
  }
  for (const tick of linearTicks(xMin, xMax, 6)) {
    const tx = x(tick).toFixed(1);
    parts.push(`<text class="tick" x="${tx}" y="${box.height - box.bottom + 16}" text-anchor="middle">${tickLabel(tick)}</text>`);
  }
  parts.push(axes(box));
  for (const mark of marks) parts.push(stepMark(mark, x(mark.x), box));
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join('');
    parts.push(`<path class="line ${s.className}" d="${d}"><title>${escapeXml(s.label)}</title></path>`);
    if (s.markers) {
      for (const p of s.points) {
        parts.push(
          `<circle class="marker ${s.className}" cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3">` +
            `<title>${escapeXml(`${s.label} at step ${p.x}: ${tickLabel(p.y)}`)}</title></circle>`,
        );
      }
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** A dashed line over the plot at a step, with a clickable triangle above it. */
function stepMark(mark: StepMark, at: number, box: Box): string {
  const cx = at.toFixed(1);
  const bottom = box.height - box.bottom;
  const triangle = `${(at - 5).toFixed(1)},${box.top - 10} ${(at + 5).toFixed(1)},${box.top - 10} ${cx},${box.top - 1}`;
  return (
    `<g class="finding-mark ${mark.severity}" data-finding="${mark.finding}"><title>${escapeXml(mark.label)}</title>` +
    `<line class="mark-line" x1="${cx}" x2="${cx}" y1="${box.top}" y2="${bottom}"/>` +
    `<polygon class="mark-head" points="${triangle}"/></g>`
  );
}

/** Min..max with 5% head- and footroom, never empty. */
function paddedDomain(min: number, max: number): [number, number] {
  if (max === min) return [min - 1, max + 1];
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

/** The geometry of one layer's column in the gradient-flow chart. */
export interface LayerBar {
  layer: string;
  x: number;
  width: number;
  /** y of the bars' foot (the log axis's lower end). */
  baseY: number;
  maxY: number;
  meanY: number;
  flagged: boolean;
}

const FLOW_BOX: Box = { width: 600, height: 260, top: 10, right: 12, bottom: 80, left: 56 };

/**
 * One column per layer, in model order, like PyTorch's plot_grad_flow: a wide bar up to the
 * max |gradient| and a narrow one up to the mean |gradient|, on a shared log scale.
 */
export function layerBars(layers: LayerGradient[], box: Box = FLOW_BOX): { bars: LayerBar[]; domain: [number, number]; y: Scale } {
  const domain = logDomain(layers.flatMap((l) => [l.gradMax, l.gradMeanAbs]));
  const baseY = box.height - box.bottom;
  const y = logScale(domain, [baseY, box.top]);
  const columnWidth = (box.width - box.left - box.right) / Math.max(1, layers.length);
  const bars = layers.map((l, i) => ({
    layer: l.layer,
    x: box.left + i * columnWidth,
    width: columnWidth,
    baseY,
    maxY: y(l.gradMax),
    meanY: y(l.gradMeanAbs),
    flagged: l.flagged,
  }));
  return { bars, domain, y };
}

export function gradientFlowSvg(layers: LayerGradient[]): string {
  const box = FLOW_BOX;
  if (layers.length === 0) return emptySvg(box, 'No gradients yet.');
  const { bars, domain, y } = layerBars(layers, box);
  const parts: string[] = [svgOpen(box)];
  for (const tick of logTicks(domain)) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${box.left}" x2="${box.width - box.right}" y1="${ty}" y2="${ty}"/>`);
    parts.push(`<text class="tick" x="${box.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tickLabel(tick)}</text>`);
  }
  bars.forEach((bar, i) => {
    const stats = layers[i];
    const name = escapeXml(bar.layer);
    const centre = bar.x + bar.width / 2;
    const wide = bar.width * 0.7;
    const narrow = bar.width * 0.35;
    const tooltip = escapeXml(
      `${bar.layer}: max |g| ${formatGradient(stats.gradMax)}, mean |g| ${formatGradient(stats.gradMeanAbs)}, ` +
        `${formatPercent(stats.zeroFraction)} zeros — click to show in the editor`,
    );
    parts.push(`<g class="layer${bar.flagged ? ' flagged' : ''}" data-layer="${name}"><title>${tooltip}</title>`);
    parts.push(`<rect class="hit" x="${bar.x.toFixed(1)}" y="${box.top}" width="${bar.width.toFixed(1)}" height="${bar.baseY - box.top}"/>`);
    parts.push(rect('bar-max', centre - wide / 2, bar.maxY, wide, bar.baseY - bar.maxY));
    parts.push(rect('bar-mean', centre - narrow / 2, bar.meanY, narrow, bar.baseY - bar.meanY));
    const labelY = bar.baseY + 8;
    parts.push(
      `<text class="layer-name" x="${centre.toFixed(1)}" y="${labelY}" text-anchor="end" ` +
        `transform="rotate(-45 ${centre.toFixed(1)} ${labelY})">${name}</text></g>`,
    );
  });
  parts.push(axes(box));
  parts.push('</svg>');
  return parts.join('');
}

function rect(className: string, x: number, y: number, width: number, height: number): string {
  return `<rect class="${className}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${width.toFixed(1)}" height="${Math.max(0, height).toFixed(1)}"/>`;
}

function svgOpen(box: Box): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${box.width} ${box.height}" preserveAspectRatio="xMidYMid meet">`;
}

function axes(box: Box): string {
  const bottom = box.height - box.bottom;
  return (
    `<line class="axis" x1="${box.left}" x2="${box.width - box.right}" y1="${bottom}" y2="${bottom}"/>` +
    `<line class="axis" x1="${box.left}" x2="${box.left}" y1="${box.top}" y2="${bottom}"/>`
  );
}

function emptySvg(box: Box, message: string): string {
  return (
    `${svgOpen(box)}<text class="empty" x="${box.width / 2}" y="${box.height / 2}" text-anchor="middle">` +
    `${escapeXml(message)}</text></svg>`
  );
}
