// The Training webview's HTML: a strict Content-Security-Policy (nothing from the network,
// only the extension's own script, with a nonce, and its own stylesheet). Pure, so the policy
// is tested without an editor.

import { randomBytes } from 'node:crypto';
import { escapeXml } from '../webview/charts.js';

export interface PanelResources {
  /** `webview.cspSource`: the origin the webview serves the extension's files from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
}

/** A fresh nonce per page load: 128 random bits, base64. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    'img-src data:',
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function trainingPanelHtml(resources: PanelResources): string {
  const csp = escapeXml(contentSecurityPolicy(resources.cspSource, resources.nonce));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeXml(resources.styleUri)}">
<title>Training</title>
</head>
<body>
<header><h1 id="title">Training</h1><p id="status">No run yet: use ▶ Train on a model.</p></header>
<section><h2>Loss</h2><div id="loss-chart" class="chart"></div>
<p class="legend"><span class="swatch train-loss"></span>train (per step) <span class="swatch test-loss"></span><span class="split-name">test</span> (per epoch) <span class="swatch finding-mark"></span>a finding appeared (click to show it)</p></section>
<section><h2>Accuracy</h2><div id="accuracy-chart" class="chart"></div>
<p class="legend"><span class="swatch train-accuracy"></span>train (up to 1,000 training samples, per epoch) <span class="swatch test-accuracy"></span><span class="split-name">test</span> (per epoch)</p></section>
<section><h2>Findings</h2><ul id="findings"></ul></section>
<section id="confusion-section" hidden><h2>Confusion matrix <label>at <select id="confusion-epoch"></select></label></h2>
<div id="confusion-chart" class="chart"></div>
<p class="legend">rows: the true class; columns: the predicted one; shade: the share of the row (<span class="split-name">test</span> split)</p></section>
<section id="worst-section" hidden><h2>Worst-classified <span class="split-name">test</span> samples <span id="worst-epoch"></span></h2>
<div id="worst-samples"></div>
<p class="legend">the highest losses of the latest epoch: true class, then the prediction and its confidence</p></section>
<section><h2>Gradient flow <span id="flow-step"></span></h2><div id="flow-chart" class="chart"></div>
<p class="legend"><span class="swatch bar-max"></span>max |gradient| <span class="swatch bar-mean"></span>mean |gradient| (log scale; click a layer to show it)</p></section>
<script nonce="${escapeXml(resources.nonce)}" src="${escapeXml(resources.scriptUri)}"></script>
</body>
</html>
`;
}
