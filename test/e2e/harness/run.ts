// One end-to-end run's folders: a temporary root (home, profiles, workspace of copied examples),
// the packaged .vsix, and the artifacts folder (.e2e-artifacts/) that keeps screenshots and logs.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './install.js';

export const artifactsRoot = join(repoRoot, '.e2e-artifacts');

export interface E2eRun {
  /** Temporary folder for everything the run writes outside the artifacts. */
  root: string;
  /** The workspace code-server opens: copies of examples/ (models and their data). */
  workspace: string;
  /** Screenshots and logs of this run; kept after the run. */
  artifacts: string;
}

/** A fresh run named `name` (one per code-server); the artifacts of an earlier run of that name are replaced. */
export function prepareRun(name: string): E2eRun {
  const root = mkdtempSync(join(tmpdir(), `nn-e2e-${name}-`));
  const workspace = join(root, 'workspace');
  // Models and data only: runs/ holds checkpoints of earlier local runs, which would confuse the scenarios.
  const examples = join(repoRoot, 'examples');
  cpSync(examples, workspace, { recursive: true, filter: (source) => !source.startsWith(join(examples, 'runs')) });
  const artifacts = join(artifactsRoot, name);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  return { root, workspace, artifacts };
}

let packaged: string | null = null;

/** Builds and packages the extension with the project's `npm run package`; returns the .vsix. */
export function packageExtension(): string {
  if (packaged) return packaged;
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (!manifest.scripts?.package) throw new Error('package.json has no `package` script (npm run package → .vsix)');
  mkdirSync(artifactsRoot, { recursive: true });
  const vsix = join(artifactsRoot, 'nn-studio.vsix');
  rmSync(vsix, { force: true });
  execFileSync('npm', ['run', '--silent', 'package', '--', '--out', vsix], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(vsix)) throw new Error(`npm run package -- --out ${vsix} wrote no .vsix`);
  packaged = vsix;
  return vsix;
}

/** Copies code-server's logs (the extension host's and the NN Studio output channel's) into the artifacts. */
export function collectLogs(userDataDir: string, artifacts: string): void {
  const logs = join(userDataDir, 'logs');
  if (existsSync(logs)) cpSync(logs, join(artifacts, 'vscode-logs'), { recursive: true });
}

/** Every file under `dir`, relative, for messages that say what a folder holds. */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}
