// Builds the extension's .vsix offline. The shippable files are copied to a fresh staging
// folder together with the one native runtime module the bundles load (onnxruntime-node,
// trimmed to this platform's binaries, under dist/node_modules where Node looks first from
// dist/server.js); `vsce package --no-dependencies` runs there and .vscodeignore picks files.
// Packaging never writes into the repository's dist/, so tests that run it stay independent.
// Usage: node scripts/package.mjs [--out FILE.vsix] [--no-build]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg >= 0 ? process.argv[outArg + 1] : join(root, `${manifest.name}-${manifest.version}.vsix`));
/** vsce's platform names match Node's `${platform}-${arch}` for what onnxruntime-node ships. */
const vsceTarget = `${process.platform}-${process.arch}`;

if (!process.argv.includes('--no-build')) {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}

/** Everything that may ship; .vscodeignore (an allow-list) has the last word. */
const candidates = ['package.json', '.vscodeignore', 'README.md', 'LICENSE', 'language-configuration.json', 'syntaxes', 'docs', 'examples/data/fashion-mnist'];
const stage = mkdtempSync(join(tmpdir(), 'nn-vsix-'));
try {
  for (const entry of candidates) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
  // npm's `files` list (the CLI package) and vsce's .vscodeignore cannot both be given to vsce.
  const staged = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'));
  delete staged.files;
  writeFileSync(join(stage, 'package.json'), JSON.stringify(staged, null, 2) + '\n');
  cpSync(join(root, 'dist'), join(stage, 'dist'), {
    recursive: true,
    filter: (source) => !source.endsWith('.map') && !relative(join(root, 'dist'), source).startsWith('node_modules'),
  });
  const ortNode = packageDir('onnxruntime-node', root);
  // onnxruntime-node loads bin/napi-v<N>/<platform>/<arch>/onnxruntime_binding.node.
  const binaries = readdirSync(join(ortNode, 'bin')).map((napi) => `bin/${napi}/${process.platform}/${process.arch}`);
  stagePackage(ortNode, ['dist', ...binaries]);
  stagePackage(packageDir('onnxruntime-common', ortNode), ['dist']);

  const vsce = createRequire(join(root, 'package.json')).resolve('@vscode/vsce/vsce');
  const args = ['package', '--no-dependencies', '--allow-missing-repository', '--target', vsceTarget, '--out', out];
  execFileSync(process.execPath, [vsce, ...args], { cwd: stage, stdio: 'inherit' });
  console.log(`packaged ${out} for ${vsceTarget}`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/** The folder of package `name` as Node finds it from `dir` (exports maps hide package.json). */
function packageDir(name, dir) {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(at) === at) throw new Error(`${name} is not installed (looked from ${dir})`);
  }
}

/** Copies a package's package.json and its runtime JavaScript and binaries under `dirs`. */
function stagePackage(from, dirs) {
  const to = join(stage, 'dist/node_modules', JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')).name);
  mkdirSync(to, { recursive: true });
  cpSync(join(from, 'package.json'), join(to, 'package.json'));
  for (const dir of dirs) {
    cpSync(join(from, dir), join(to, dir), {
      recursive: true,
      filter: (source) => !source.endsWith('.map') && !source.endsWith('.d.ts'),
    });
  }
}
