// Runs every test: type-check, build, then node's test runner over all *.test.ts files.
// Usage: node scripts/test.mjs [path-filter...]  (filters select test files by substring)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots = ['engine', 'server', 'client', 'test', 'scripts'];
const skipDirs = new Set(['node_modules', 'dist', 'e2e']);

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!skipDirs.has(name)) findTests(path, out);
    } else if (name.endsWith('.test.ts')) {
      out.push(path);
    }
  }
  return out;
}

if (!existsSync('node_modules')) execFileSync('npm', ['ci'], { stdio: 'inherit' });

const filters = process.argv.slice(2);
const files = roots
  .flatMap((root) => { try { return findTests(root, []); } catch { return []; } })
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (filters.length === 0) {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
}
execFileSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
// Tests never touch the user's data cache nor reach the internet: an empty cache of their
// own, and a download mirror on a loopback port where nothing listens (tests that download
// start their own server on 127.0.0.1 and say so).
const dataCache = mkdtempSync(join(tmpdir(), 'nn-test-cache-'));
const env = { ...process.env, NN_DATA_CACHE: dataCache, NN_DATA_MIRROR: 'http://127.0.0.1:9' };
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...files],
  { stdio: 'inherit', env },
);
rmSync(dataCache, { recursive: true, force: true });
process.exit(result.status ?? 1);
