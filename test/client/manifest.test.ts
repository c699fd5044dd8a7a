// The extension manifest (root package.json): commands, activation, settings, trust, menus.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SERVER_COMMANDS } from '../../server/src/protocol.js';
import { CLIENT_COMMAND_FOR } from '../../client/src/serverCommands.js';
import { DEFAULT_SETTINGS } from '../../server/src/lsp/settings.js';

interface Command {
  command: string;
  title?: string;
  category?: string;
}
interface Setting {
  type: string;
  default: unknown;
  enum?: string[];
  scope?: string;
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const contributed: Command[] = manifest.contributes.commands;
const settings: Record<string, Setting> = manifest.contributes.configuration.properties;

const commandIds = [
  'nn.train',
  'nn.stopTraining',
  'nn.probeGradients',
  'nn.gradcheck',
  'nn.exportOnnx',
  'nn.showTrainingView',
  'nn.restartServer',
];

test('every command is in the palette with a title and the category NN', () => {
  assert.deepEqual(contributed.map((c) => c.command).sort(), [...commandIds].sort());
  for (const command of contributed) {
    assert.ok(command.title && command.title.length > 0, `${command.command} has a title`);
    assert.equal(command.category, 'NN', `${command.command} has the category NN`);
  }
  // Hidden from the palette would be a `when: false` entry; there is none.
  const palette: { command: string; when?: string }[] = manifest.contributes.menus?.commandPalette ?? [];
  assert.ok(!palette.some((entry) => entry.when === 'false'));
});

test('the extension registers exactly the contributed commands, and has one for each command a code lens names', () => {
  const source = readFileSync('client/src/extension.ts', 'utf8');
  const registered = [...source.matchAll(/^\s*'(nn\.\w+)':/gm)].map((m) => m[1]);
  assert.deepEqual(registered.sort(), [...commandIds].sort());
  for (const command of Object.values(SERVER_COMMANDS)) {
    assert.ok(commandIds.includes(CLIENT_COMMAND_FOR[command]), `${command} → ${CLIENT_COMMAND_FOR[command]}`);
    // The server's commands are registered by the language client from the server's capabilities: never contributed twice.
    assert.ok(!commandIds.includes(command), command);
  }
});

test('menus only name contributed commands', () => {
  for (const [menu, entries] of Object.entries(manifest.contributes.menus as Record<string, Command[]>)) {
    for (const entry of entries) assert.ok(commandIds.includes(entry.command), `${menu}: ${entry.command}`);
  }
});

test('activation, entry point, language and limited support for untrusted workspaces', () => {
  assert.ok(manifest.activationEvents.includes('onLanguage:nn'));
  assert.equal(manifest.main, './dist/client.js');
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  const language = manifest.contributes.languages.find((l: { id: string }) => l.id === 'nn');
  assert.deepEqual(language.extensions, ['.nn']);
  assert.equal(language.configuration, './language-configuration.json');
  const grammar = manifest.contributes.grammars.find((g: { language: string }) => g.language === 'nn');
  assert.equal(grammar.scopeName, 'source.nn');
  assert.ok(existsSync(grammar.path), grammar.path);
});

test('the settings exist with their types and safe defaults', () => {
  const expected: Record<string, [string, unknown]> = {
    'nn.backend': ['string', 'auto'],
    'nn.threads': ['integer', 0],
    'nn.liveGradients.maxFlops': ['number', 2e9],
    'nn.inlayHints.shapes': ['boolean', true],
    'nn.inlayHints.gradients': ['boolean', true],
    'nn.maxNumberOfProblems': ['integer', 100],
    'nn.trace.server': ['string', 'off'],
    'nn.allowPathsOutsideWorkspace': ['boolean', false],
    'nn.limits.maxParameters': ['integer', 100_000_000],
    'nn.limits.maxActivationBytes': ['integer', 2 ** 31],
    'nn.dataCache': ['string', ''],
    'nn.dataMirror': ['string', ''],
  };
  assert.deepEqual(Object.keys(settings).sort(), Object.keys(expected).sort());
  for (const [key, [type, defaultValue]] of Object.entries(expected)) {
    assert.equal(settings[key].type, type, key);
    assert.equal(settings[key].default, defaultValue, key);
  }
  assert.deepEqual(settings['nn.backend'].enum, ['auto', 'ts', 'onnx']);
  assert.deepEqual(settings['nn.trace.server'].enum, ['off', 'messages', 'verbose']);
  // A cloned repository's .vscode/settings.json must not widen what its model may read.
  assert.equal(settings['nn.allowPathsOutsideWorkspace'].scope, 'machine');
  // Nor choose where downloads are written or where they come from.
  assert.equal(settings['nn.dataCache'].scope, 'machine');
  assert.equal(settings['nn.dataMirror'].scope, 'machine');
});

test('every setting the server reads is declared, with the server\'s default', () => {
  const flatten = (prefix: string, value: unknown): [string, unknown][] =>
    typeof value === 'object' && value !== null
      ? Object.entries(value).flatMap(([key, inner]) => flatten(`${prefix}.${key}`, inner))
      : [[prefix, value]];
  for (const [key, serverDefault] of flatten('nn', DEFAULT_SETTINGS)) {
    assert.ok(settings[key], `${key} is read by the server but not declared in package.json`);
    assert.equal(settings[key].default, serverDefault, key);
  }
});

test('npm run package builds the .vsix', () => {
  assert.equal(manifest.scripts.package, 'node scripts/package.mjs');
});
