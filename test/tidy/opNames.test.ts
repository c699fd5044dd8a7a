// One definition per op, as a tidy test: outside engine/src/ops/, no string literal is an op's
// or layer's name (`'relu'`, `"Linear"`, `` `matmul` ``) unless opNameAllowlist.ts lists that
// file and name with its reason, so a consumer reads an op's facts from its OpDef instead of
// branching on its name. String literals are found by TypeScript's own parser: comments and
// words such as `Math.max` or `.split()` are not literals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { LAYERS, OPS } from '../../engine/src/ops/registry.js';
import { OP_NAME_ALLOWLIST } from './opNameAllowlist.js';

const root = join(__dirname, '..', '..');
const scanned = ['engine/src', 'server/src', 'client/src'];
/** Where the ops are defined: the one place their names are theirs to write. */
const opsDir = join(root, 'engine', 'src', 'ops');
const names = new Set<string>([...Object.keys(OPS), ...Object.keys(LAYERS)]);

interface Hit {
  file: string;
  line: number;
  name: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === opsDir ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The string literals of a text (a template only without `${`) whose whole content is an op or layer name. */
function opNameLiterals(file: string, text: string): Hit[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const hits: Hit[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && names.has(node.text)) {
      hits.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, name: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hits;
}

const hits = scanned
  .flatMap((dir) => sourceFiles(join(root, dir)))
  .flatMap((path) => opNameLiterals(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8')));

const allowed = (hit: Hit) => OP_NAME_ALLOWLIST.some((entry) => entry.file === hit.file && entry.name === hit.name);

test('outside engine/src/ops/, an op or layer name is a string literal only where the allowlist says why', () => {
  assert.deepEqual(hits.filter((hit) => !allowed(hit)).map((hit) => `${hit.file}:${hit.line} ${hit.name}`), []);
});

test('every allowlist entry still matches a literal, once', () => {
  const keys = OP_NAME_ALLOWLIST.map((entry) => `${entry.file} ${entry.name}`);
  assert.deepEqual(keys.filter((key, i) => keys.indexOf(key) !== i), [], 'listed twice');
  assert.deepEqual(OP_NAME_ALLOWLIST.filter((entry) => !hits.some((hit) => hit.file === entry.file && hit.name === entry.name)).map((entry) => `${entry.file} ${entry.name}`), [], 'stale');
});

test('the literal scanner sees literals, not comments, words or templates with substitutions', () => {
  const text = [
    "const a = 'relu'; // 'softmax'",
    '/* "matmul" */ const b = `Linear`;',
    'const c = `relu${a}`; const d = Math.max(1, 2); const e = "relu6";',
    'type F = "Conv2d";',
  ].join('\n');
  assert.deepEqual(opNameLiterals('x.ts', text).map((hit) => `${hit.line} ${hit.name}`), ['1 relu', '2 Linear', '4 Conv2d']);
});
