// Finds (installing on first use, through scripts/e2e-setup.sh) the Node 24, code-server and
// Chromium the end-to-end suite drives; says why not when they cannot be had.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface E2eInstall {
  /** Node 24: code-server refuses older ones. */
  nodeBin: string;
  /** code-server's entry point, run with `nodeBin`. */
  codeServerEntry: string;
  chromium: string;
}

export type Availability = { ok: true; install: E2eInstall } | { ok: false; reason: string };

export const repoRoot = resolve(__dirname, '..', '..', '..');

/** True where the suite must run and never skip (this project's CI sets CI=true). */
export const mustRun = process.env.CI === 'true' || process.env.CI === '1';

const chromiumCandidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Runs the idempotent setup script (seconds when cached) and locates what it installed. */
export function findInstall(): Availability {
  const setup = spawnSync('bash', [join(repoRoot, 'scripts', 'e2e-setup.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15 * 60_000,
  });
  if (setup.status !== 0) {
    const tail = `${setup.stderr ?? ''}${setup.error?.message ?? ''}`.trim().split('\n').slice(-8).join('\n');
    return { ok: false, reason: `scripts/e2e-setup.sh failed (exit ${setup.status}):\n${tail}` };
  }
  const printed = new Map(
    setup.stdout.split('\n').flatMap((line) => {
      const at = line.indexOf('=');
      return at > 0 ? [[line.slice(0, at), line.slice(at + 1)] as const] : [];
    }),
  );
  const nodeBin = printed.get('node') ?? '';
  const codeServerEntry = printed.get('code-server') ?? '';
  const chromium = chromiumCandidates.find((path) => existsSync(path));
  if (!existsSync(nodeBin)) return { ok: false, reason: `setup printed no Node 24 (${nodeBin || 'nothing'})` };
  if (!existsSync(codeServerEntry)) return { ok: false, reason: `code-server install incomplete (${codeServerEntry || 'nothing'})` };
  if (!chromium) return { ok: false, reason: `no Chromium at ${chromiumCandidates.join(' or ')}` };
  return { ok: true, install: { nodeBin, codeServerEntry, chromium } };
}
