// `nn lsp`: the language server over stdio, for any LSP editor. The engine does not import
// server code; this runs the bundled server (dist/server.js, beside dist/cli.js) as a child.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { serverNodeOptions } from './serverNodeOptions.js';

/** dist/server.js beside the bundled CLI, or the built one when run from source. */
function serverPath(): string | null {
  const candidates = [resolve(__dirname, 'server.js'), resolve(__dirname, '..', '..', '..', 'dist', 'server.js')];
  return candidates.find((path) => existsSync(path)) ?? null;
}

export async function run(args: string[]): Promise<number> {
  const server = serverPath();
  if (!server) {
    process.stderr.write('nn lsp: dist/server.js not found; run `npm run build` first.\n');
    return 1;
  }
  const child = spawn(process.execPath, [...serverNodeOptions, server, '--stdio', ...args], { stdio: 'inherit' });
  return new Promise((resolvePromise) => {
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
    child.on('error', (error) => {
      process.stderr.write(`nn lsp: ${error.message}\n`);
      resolvePromise(1);
    });
  });
}
