import { exportCase } from './exportHarness.js';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
for (const f of ['custom_grad.nn', 'resnet_block.nn']) { const c = exportCase(f); console.log(exportPytorch(c.model, c.check.fnIrs, c.file).split('\n').slice(0, 75).join('\n')); }
