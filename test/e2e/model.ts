// The example model the scenarios work on, and the small text edits they make to copies of it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './harness/install.js';

/** The example every scenario starts from (a copy of it, in the run's workspace). */
export const exampleFile = 'fashion_cnn.nn';

export function exampleText(): string {
  return readFileSync(join(repoRoot, 'examples', exampleFile), 'utf8');
}

/** The example's first hidden Linear layer: `fc1 = Linear(8 * 7 * 7, 128)`, its text and sizes. */
export interface LinearLayer {
  name: string;
  /** The in-features argument as written (`8 * 7 * 7`). */
  inText: string;
  inFeatures: number;
  outFeatures: number;
}

export function firstLinear(text: string): LinearLayer {
  const match = /^\s*(\w+)\s*=\s*Linear\(([\d\s*+]+),\s*(\d+)\)/m.exec(text);
  if (!match) throw new Error(`${exampleFile} has no \`NAME = Linear(IN, OUT)\` line with a numeric IN`);
  const inText = match[2]!.trim();
  const inFeatures = inText.split('+').reduce((sum, term) => sum + term.split('*').reduce((p, f) => p * Number(f.trim()), 1), 0);
  return { name: match[1]!, inText, inFeatures, outFeatures: Number(match[3]) };
}

/** Sets `key = value` in the file's `train` block (adding the key when it is absent). */
export function withTrainKey(text: string, key: string, value: string): string {
  const block = /^train\s+\w+\s*\{[^}]*\}/m.exec(text);
  if (!block) throw new Error(`${exampleFile} has no train block`);
  const keyLine = new RegExp(`^(\\s*)${key}(\\s*)=.*$`, 'm');
  const body = keyLine.test(block[0])
    ? block[0].replace(keyLine, `$1${key}$2= ${value}`)
    : block[0].replace(/\}$/, `  ${key} = ${value}\n}`);
  return text.slice(0, block.index) + body + text.slice(block.index + block[0].length);
}

/** Writes a variant of the example into the workspace under `name`; returns its text. */
export function writeVariant(workspace: string, name: string, edit: (text: string) => string = (t) => t): string {
  const text = edit(exampleText());
  writeFileSync(join(workspace, name), text);
  return text;
}

/** The title of the extension's train command, from the manifest (what the palette shows). */
export function trainCommandTitle(): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    contributes?: { commands?: { command: string; title: string; category?: string }[] };
  };
  const command = manifest.contributes?.commands?.find((c) => /(^|\.)train$/i.test(c.command));
  if (!command) throw new Error('package.json contributes no `*.train` command');
  return command.category ? `${command.category}: ${command.title}` : command.title;
}
