import { readFileSync, readdirSync } from 'node:fs';
import { checkProgram } from '../../engine/src/lang/program.js';
for (const f of readdirSync('examples').filter((f) => f.endsWith('.nn'))) {
  const r = checkProgram(readFileSync('examples/' + f, 'utf8'));
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  console.log(f, [...r.irs.keys()], [...r.fnIrs.keys()], r.trains.map((t) => t.model + ':' + t.loss + ':' + t.optimizer.kind), errs.map((e) => e.code + ' ' + e.message).slice(0, 3));
  for (const ir of r.irs.values()) console.log('  ', ir.graph.nodes.map((n) => n.op + JSON.stringify(n.attrs)).join(' '));
  for (const fn of r.fnIrs.values()) console.log('  fn', fn.name, fn.forward.values.map((v) => v.shape.map(String).join('x')).join(' | '), fn.backward?.graph.nodes.map((n) => n.op).join(' '));
}
