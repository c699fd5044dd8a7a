// Bundles the VS Code client, the language server, the TS engine's kernel worker and the `nn` CLI with esbuild.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
};

const entries = [
  { in: 'client/src/extension.ts', out: 'dist/client.js' },
  { in: 'server/src/main.ts', out: 'dist/server.js' },
  { in: 'server/src/worker.ts', out: 'dist/worker.js' },
  // The TS engine's kernel threads, started by the server's worker and the CLI (kernels/pool.ts).
  { in: 'engine/src/kernels/worker.ts', out: 'dist/kernel-worker.js' },
  { in: 'engine/src/cli.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'client/src/webview/main.ts', out: 'dist/webview.js', platform: 'browser', format: 'iife' },
];

await Promise.all(
  entries
    .filter((e) => existsSync(e.in))
    .map((e) =>
      build({
        ...common,
        entryPoints: [e.in],
        outfile: e.out,
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.format ? { format: e.format } : {}),
        ...(e.banner ? { banner: { js: e.banner } } : {}),
      }),
    ),
);
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
