// Writes the files generated from the engine's catalogue of built-ins (see scripts/generated.ts):
// the TextMate grammar's built-in lists and the tables of docs/language.md.
// Usage: node scripts/generate.mjs [--check]  (--check: exit 1 and name the stale files instead of writing)
import { readFileSync, writeFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const { GENERATED } = await tsImport('./generated.ts', import.meta.url);
const check = process.argv.includes('--check');
const stale = [];
for (const { path, generate } of GENERATED) {
  const current = readFileSync(path, 'utf8');
  let next;
  try {
    next = generate(current);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  if (next === current) continue;
  stale.push(path);
  if (!check) writeFileSync(path, next);
}
if (check && stale.length > 0) {
  console.error(`generated files are stale: ${stale.join(', ')}; run \`node scripts/generate.mjs\``);
  process.exit(1);
}
if (!check && stale.length > 0) console.log(`generated ${stale.join(', ')}`);
