// The Training view's chart kit: scales, ticks, the gradient-flow bars and the SVG markup.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeXml,
  gradientFlowSvg,
  layerBars,
  lineChartSvg,
  linearScale,
  linearTicks,
  logDomain,
  logScale,
  logTicks,
} from '../../client/src/webview/charts.js';
import type { LayerGradient } from '../../client/src/webview/view.js';

const close = (actual: number, expected: number, tolerance = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

test('the log scale maps each decade to the same distance, zero to the lower end', () => {
  const y = logScale([1e-6, 1], [200, 20]);
  close(y(1e-6), 200);
  close(y(1), 20);
  close(y(1e-3), 110);
  close(y(1e-5) - y(1e-6), y(1) - y(1e-1));
  close(y(0), 200);
  close(y(-5), 200);
  const x = linearScale([0, 10], [50, 150]);
  close(x(2.5), 75);
});

test('the log domain covers whole decades around the positive values', () => {
  assert.deepEqual(logDomain([3e-5, 0.2, 0]), [1e-5, 1]);
  assert.deepEqual(logDomain([0.5, 0.5]), [0.1, 1]);
  assert.deepEqual(logDomain([10, 10]), [1, 10]);
  assert.deepEqual(logDomain([0, Number.NaN]), [0.1, 1]);
  const [low, high] = logDomain([2.5e-12, 7e3]);
  close(Math.log10(low), -12);
  close(Math.log10(high), 4);
});

test('log ticks are powers of ten, thinned to at most the asked number', () => {
  assert.deepEqual(logTicks([1e-3, 1]).map((t) => Math.round(Math.log10(t))), [-3, -2, -1, 0]);
  const wide = logTicks([1e-16, 1e4], 6);
  assert.ok(wide.length <= 6);
  assert.equal(Math.round(Math.log10(wide[0])), -16);
  const exponents = wide.map((t) => Math.round(Math.log10(t)));
  for (let i = 1; i < exponents.length; i++) assert.equal(exponents[i] - exponents[i - 1], exponents[1] - exponents[0]);
});

test('linear ticks are round numbers inside the range', () => {
  assert.deepEqual(linearTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearTicks(0.13, 2.4, 6), [0.5, 1, 1.5, 2]);
  assert.deepEqual(linearTicks(1, 1), [1]);
  for (const tick of linearTicks(-3.7, 118, 6)) assert.ok(tick >= -3.7 && tick <= 118);
});

function layer(name: string, meanAbs: number, maxAbs: number, flagged = false): LayerGradient {
  return { layer: name, params: [`${name}.weight`], gradNorm: maxAbs, gradMax: maxAbs, gradMeanAbs: meanAbs, zeroFraction: 0, updateRatio: 0, flagged };
}

test('layer bars: one column per layer in order, heights on the log scale', () => {
  const { bars, domain } = layerBars([layer('conv1', 1e-4, 1e-2), layer('fc1', 1e-6, 1e-3, true), layer('out', 0, 1e-1)]);
  assert.deepEqual(bars.map((b) => b.layer), ['conv1', 'fc1', 'out']);
  assert.deepEqual(domain, [1e-6, 0.1]);
  for (let i = 1; i < bars.length; i++) close(bars[i].x - bars[i - 1].x, bars[0].width);
  const decade = (bars[0].baseY - bars[0].maxY) / 4; // 1e-2 sits four decades above 1e-6
  close(bars[0].baseY - bars[0].meanY, 2 * decade);
  close(bars[1].baseY - bars[1].meanY, 0);
  close(bars[2].baseY - bars[2].maxY, 5 * decade);
  close(bars[2].meanY, bars[2].baseY); // a zero gradient has no bar
  assert.equal(bars[1].flagged, true);
});

test('the gradient-flow SVG has a clickable group per layer with escaped names', () => {
  const svg = gradientFlowSvg([layer('fc1', 1e-3, 1e-2), layer('a<b>&"c', 1e-2, 1e-1, true)]);
  assert.match(svg, /^<svg [^>]*viewBox/);
  assert.match(svg, /<g class="layer" data-layer="fc1">/);
  assert.match(svg, /<g class="layer flagged" data-layer="a&#60;b&#62;&#38;&#34;c">/);
  assert.equal(svg.match(/class="bar-max"/g)?.length, 2);
  assert.equal(svg.match(/class="bar-mean"/g)?.length, 2);
  assert.ok(!svg.includes('a<b>'));
  assert.ok(!/style=/.test(svg), 'inline styles would break the webview CSP');
  assert.match(gradientFlowSvg([]), /No gradients yet/);
});

test('the line chart draws one path per non-empty series, with a point per value', () => {
  const svg = lineChartSvg(
    [
      { points: [{ x: 1, y: 2 }, { x: 2, y: 1.5 }, { x: 3, y: 1 }], className: 'train-loss', label: 'train loss' },
      { points: [], className: 'test-loss', label: 'test loss', markers: true },
      { points: [{ x: 3, y: 1.2 }], className: 'test-accuracy', label: 'acc', markers: true },
    ],
    { empty: 'nothing' },
  );
  const paths = [...svg.matchAll(/<path class="line ([\w-]+)" d="([^"]+)"/g)];
  assert.deepEqual(paths.map((p) => p[1]), ['train-loss', 'test-accuracy']);
  assert.equal(paths[0][2].match(/[ML]/g)?.length, 3);
  assert.equal(svg.match(/<circle /g)?.length, 1);
  assert.ok(!/style=/.test(svg));
  assert.match(lineChartSvg([{ points: [], className: 'x', label: 'x' }], { empty: 'No loss yet.' }), /No loss yet\./);
});

test('a fixed y domain puts 0 at the bottom and 1 at the top of the plot', () => {
  const svg = lineChartSvg([{ points: [{ x: 0, y: 0 }, { x: 10, y: 1 }], className: 'acc', label: 'acc' }], {
    yDomain: [0, 1],
    empty: '',
  });
  const d = /d="M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)"/.exec(svg);
  assert.ok(d);
  const [, , y0, , y1] = d.map(Number);
  assert.ok(y0 > y1, 'higher accuracy is drawn higher');
  assert.match(svg, /y1="14"/); // the axis top: accuracy 1 sits on the plot's top edge
  close(y1, 14);
});

test('finding marks: a clickable dashed line at each finding\'s step, inside the x range', () => {
  const points = [{ x: 0, y: 2 }, { x: 100, y: 1 }];
  const svg = lineChartSvg([{ points, className: 'train-loss', label: 'train loss' }], {
    empty: '',
    marks: [
      { x: 50, severity: 'warning', label: 'NN5006 at step 50: <lr>', finding: 0 },
      { x: 100, severity: 'error', label: 'NN5004', finding: 1 },
    ],
  });
  const marks = [...svg.matchAll(/<g class="finding-mark (\w+)" data-finding="(\d)"><title>([^<]*)<\/title><line class="mark-line" x1="([\d.]+)"/g)];
  assert.deepEqual(marks.map((m) => [m[1], m[2], m[3]]), [['warning', '0', 'NN5006 at step 50: &#60;lr&#62;'], ['error', '1', 'NN5004']]);
  const [left, right] = [56, 600 - 12]; // the plot's edges: step 50 halfway, step 100 at the right end
  close(Number(marks[0][4]), (left + right) / 2, 0.05);
  close(Number(marks[1][4]), right, 0.05);
  // A mark past the last point widens the x range instead of leaving the chart.
  const later = lineChartSvg([{ points, className: 'train-loss', label: '' }], { empty: '', marks: [{ x: 200, severity: 'warning', label: '', finding: 0 }] });
  close(Number(/class="mark-line" x1="([\d.]+)"/.exec(later)![1]), right, 0.05);
});

test('escapeXml escapes markup characters', () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
});
