// The Training webview's page: a strict Content-Security-Policy and nothing from the network.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, createNonce, trainingPanelHtml } from '../../client/src/training/panelHtml.js';

const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
const resources = {
  cspSource,
  scriptUri: `${cspSource}/ext/dist/webview.js`,
  styleUri: `${cspSource}/ext/dist/webview.css`,
  nonce: 'n0nce+/AB==',
};

function policyOf(html: string): Map<string, string[]> {
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(content, 'the page declares a CSP');
  const policy = new Map<string, string[]>();
  for (const directive of content.replace(/&#39;/g, "'").split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    policy.set(name, values);
  }
  return policy;
}

test('the CSP allows nothing by default, scripts by nonce, styles from the extension, images as data:', () => {
  const policy = policyOf(trainingPanelHtml(resources));
  assert.deepEqual(policy.get('default-src'), ["'none'"]);
  assert.deepEqual(policy.get('script-src'), [`'nonce-${resources.nonce}'`]);
  assert.deepEqual(policy.get('style-src'), [cspSource]);
  assert.deepEqual(policy.get('img-src'), ['data:']);
  for (const values of policy.values()) {
    assert.ok(!values.includes("'unsafe-inline'") && !values.includes("'unsafe-eval'") && !values.includes('*'));
  }
  assert.equal(contentSecurityPolicy('x', 'y'), "default-src 'none'; style-src x; img-src data:; script-src 'nonce-y'");
});

test('the one script carries the nonce and comes from the extension; nothing else is loaded', () => {
  const html = trainingPanelHtml(resources);
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 1);
  assert.match(scripts[0], new RegExp(`nonce="${resources.nonce.replace(/[+/]/g, '\\$&')}"`));
  assert.match(scripts[0], /src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"/);
  const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls.sort(), [resources.scriptUri, resources.styleUri].sort());
  const withoutOwn = html.split(cspSource).join('');
  assert.ok(!/https?:\/\//.test(withoutOwn), 'no other http(s) source');
  assert.ok(!/ style=/.test(html), 'no inline styles');
  assert.ok(!/<script>/.test(html), 'no inline script');
});

test('each page load gets a fresh 128-bit nonce', () => {
  const nonces = new Set(Array.from({ length: 50 }, createNonce));
  assert.equal(nonces.size, 50);
  for (const nonce of nonces) assert.equal(Buffer.from(nonce, 'base64').length, 16);
});

test('the chart containers the webview script draws into are on the page', () => {
  const html = trainingPanelHtml(resources);
  for (const id of ['title', 'status', 'loss-chart', 'accuracy-chart', 'flow-chart', 'flow-step', 'findings', 'confusion-chart', 'confusion-epoch', 'worst-samples', 'worst-epoch']) {
    assert.match(html, new RegExp(`id="${id}"`));
  }
});

test('the confusion matrix and the worst samples are hidden until a run classifies', () => {
  const html = trainingPanelHtml(resources);
  for (const id of ['confusion-section', 'worst-section']) assert.match(html, new RegExp(`<section id="${id}" hidden>`));
  assert.match(html, /<select id="confusion-epoch">/);
});
