// `npm start`: the project's main job on a fresh clone. Installs dependencies when
// node_modules is missing, builds, then checks and trains examples/fashion_cnn.nn on the
// bundled Fashion-MNIST subset and prints the run's summary (with its test accuracy).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..'));
if (!existsSync('node_modules')) execFileSync('npm', ['ci'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

// Ctrl-C reaches the trainer too, which stops after its current step and saves; this
// script only waits for it.
process.on('SIGINT', () => {});
const model = process.argv[2] ?? 'examples/fashion_cnn.nn';
const check = spawnSync(process.execPath, ['dist/cli.js', 'check', model], { stdio: 'inherit' });
if (check.status !== 0) process.exit(check.status ?? 1);
const result = spawnSync(process.execPath, ['dist/cli.js', 'train', model], { stdio: 'inherit' });
process.exit(result.status ?? 1);
