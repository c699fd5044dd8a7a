// Runs the benchmarks under bench/ one after another: `npm run bench [-- checker engine lsp onnx fashion soundness]`.
import { spawnSync } from 'node:child_process';

const all = ['checker', 'engine', 'lsp', 'onnx', 'fashion', 'tiny_gpt', 'soundness'];
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
let failed = false;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark '${name}'; choose from ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== bench/${name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}/run.ts`], { stdio: 'inherit' });
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
