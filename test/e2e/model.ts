// The example model the scenarios work on, and the small text edits they make to copies of it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './harness/install.js';

/** The example every scenario starts from (a copy of it, in the run's workspace). */
export const exampleFile = 'fashion_cnn.nn';

export function exampleText(): string {
  return readFileSync(join(repoRoot, 'examples', exampleFile), 'utf8');
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
