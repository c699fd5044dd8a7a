// Keeps docs/diagnostics.md, docs/language.md and the fixtures in step with the diagnostics
// catalogue: one docs entry per code with a wrong and a fixed example, every static code
// exercised by a wrong and a fixed fixture, and the examples checked by the real checker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIAGNOSTICS, diagnosticEntry } from '../engine/src/lang/diagnostics.js';
import type { CheckResult } from '../engine/src/lang/api.js';
import { checkProgram } from '../engine/src/lang/program.js';
import { readDataHeader } from '../engine/src/data/index.js';
import { sourceChecks } from '../engine/src/data/sourceFiles.js';

const root = join(__dirname, '..');
const casesDir = join(root, 'test/fixtures/cases');
/** The fixture folders: the shared cases and the layers' own (attention, recurrent layers, sequences). */
const fixtureDirs = [casesDir, join(root, 'test/fixtures/layers')];
const diagnosticsDoc = readFileSync(join(root, 'docs/diagnostics.md'), 'utf8');
const languageDoc = readFileSync(join(root, 'docs/language.md'), 'utf8');

interface Example {
  label: 'wrong' | 'fixed';
  text: string;
}

interface Entry {
  code: string;
  line: number;
  examples: Example[];
}

/** The `## NNxxxx` sections of diagnostics.md with their ```nn examples labelled by the `**Wrong:**`/`**Fixed:**` line before them. */
function parseEntries(markdown: string): Entry[] {
  const entries: Entry[] = [];
  const lines = markdown.split('\n');
  let label: Example['label'] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^## (\S+)\s*$/.exec(line);
    if (heading) {
      entries.push({ code: heading[1]!, line: i + 1, examples: [] });
      label = null;
    } else if (/^\*\*Wrong:?\*\*/.test(line)) {
      label = 'wrong';
    } else if (/^\*\*Fixed:?\*\*/.test(line)) {
      label = 'fixed';
    } else if (line.startsWith('```nn')) {
      const end = lines.indexOf('```', i + 1);
      assert.ok(end > i, `diagnostics.md:${i + 1}: unclosed code block`);
      const entry = entries[entries.length - 1];
      if (entry && label) entry.examples.push({ label, text: lines.slice(i + 1, end).join('\n') + '\n' });
      label = null;
      i = end;
    }
  }
  return entries;
}

/** Every ```nn block of a markdown text, also those indented inside list items (dedented). */
function nnBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^( *)```nn\n([\s\S]*?)^\1```$/gm)].map((m) =>
    m[2]!.split('\n').map((line) => line.slice(m[1]!.length)).join('\n'),
  );
}

/** Data paths in the examples (`data/points.csv`) are the fixture files under test/fixtures/cases/data. */
const readHeader = readDataHeader(casesDir);

/**
 * An example is checked as the file test/fixtures/cases/imports/example.nn (its text, not the
 * disk's), so `import "blocks.nn"` reads the fixtures' imported files there.
 */
const examplePath = join(casesDir, 'imports', 'example.nn');
function checkExample(text: string): CheckResult {
  return checkProgram(text, { readDataHeader: readHeader, ...sourceChecks(examplePath, (path) => (path === examplePath ? text : undefined)) });
}

function problems(result: CheckResult): string[] {
  return result.diagnostics
    .filter((d) => d.severity !== 'info')
    .map((d) => `${d.code} ${d.severity} at offset ${d.range.start}: ${d.message}`);
}

const entries = parseEntries(diagnosticsDoc);
const catalogueCodes = Object.keys(DIAGNOSTICS).sort();

test('diagnostics.md has exactly one entry per catalogue code, in code order', () => {
  const documented = entries.map((e) => e.code);
  for (const code of documented) assert.match(code, /^NN\d{4}$/, `heading "## ${code}" is not a code`);
  assert.deepEqual(documented, [...new Set(documented)], 'a code is documented twice');
  const missing = catalogueCodes.filter((c) => !documented.includes(c));
  const unknown = documented.filter((c) => !(c in DIAGNOSTICS));
  assert.deepEqual(missing, [], `codes without an entry in docs/diagnostics.md: ${missing.join(', ')}`);
  assert.deepEqual(unknown, [], `docs/diagnostics.md lists codes not in the catalogue: ${unknown.join(', ')}`);
  assert.deepEqual(documented, [...documented].sort(), 'entries are not in code order');
});

test('every diagnostics.md entry names its severity and has a wrong and a fixed example', () => {
  for (const entry of entries) {
    const severity = diagnosticEntry(entry.code)?.severity;
    const sectionStart = diagnosticsDoc.indexOf(`\n## ${entry.code}\n`);
    const section = diagnosticsDoc.slice(sectionStart + 1).split('\n## ')[0]!;
    assert.ok(severity && section.includes(`**${severity}**`), `${entry.code}: the entry does not say **${severity}**`);
    const labels = entry.examples.map((e) => e.label);
    assert.ok(labels.includes('wrong'), `${entry.code} (diagnostics.md:${entry.line}) has no **Wrong:** example`);
    assert.ok(labels.includes('fixed'), `${entry.code} (diagnostics.md:${entry.line}) has no **Fixed:** example`);
  }
});

test('every static code has a wrong and a fixed fixture in test/fixtures/cases (or test/fixtures/layers)', () => {
  const files = fixtureDirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.nn')).map((f) => ({ name: f, path: join(dir, f) })));
  const annotated = new Set<string>();
  for (const file of files) {
    for (const m of readFileSync(file.path, 'utf8').matchAll(/#!((?:\s+NN\d{4})+)/g)) {
      for (const code of m[1]!.trim().split(/\s+/)) annotated.add(code);
    }
  }
  for (const code of catalogueCodes.filter((c) => c < 'NN5000')) {
    assert.ok(annotated.has(code), `no fixture annotates ${code}`);
    const fixed = files.filter((f) => f.name.startsWith(`ok_${code.toLowerCase()}_`));
    assert.ok(fixed.length > 0, `no ok_${code.toLowerCase()}_*.nn fixture shows the fixed form of ${code}`);
    for (const file of fixed) {
      assert.doesNotMatch(readFileSync(file.path, 'utf8'), /#!/, `${file.name} is an ok fixture but has annotations`);
    }
  }
});

test('diagnostics.md examples: fixed ones check cleanly, wrong ones report their code', async (t) => {
  for (const entry of entries) {
    await t.test(entry.code, () => {
      for (const example of entry.examples) {
        const result = checkExample(example.text);
        const codes = result.diagnostics.map((d) => d.code);
        const isRunFinding = entry.code >= 'NN5000';
        if (example.label === 'fixed' || isRunFinding) {
          // Run findings need data, so both of their examples must pass the static checker.
          assert.deepEqual(problems(result), [], `${entry.code} ${example.label} example:\n${example.text}`);
          if (example.label === 'fixed') assert.ok(!codes.includes(entry.code), `${entry.code} fixed example still reports it`);
        } else {
          assert.ok(codes.includes(entry.code), `${entry.code} wrong example reports ${codes.join(', ') || 'nothing'}:\n${example.text}`);
        }
      }
    });
  }
});

test('language.md examples check without errors or warnings', () => {
  const blocks = nnBlocks(languageDoc);
  assert.ok(blocks.length >= 5, 'language.md has its examples');
  for (const text of blocks) {
    assert.deepEqual(problems(checkExample(text)), [], text);
  }
});

test('language.md documents every built-in function, layer, loss and data set', () => {
  const names = [
    'Linear', 'Conv2d', 'BatchNorm2d', 'BatchNorm1d', 'LayerNorm', 'Embedding',
    'relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'softplus', 'exp', 'log', 'sqrt', 'abs',
    'softmax', 'log_softmax', 'sum', 'mean', 'max', 'transpose', 'reshape', 'flatten', 'concat',
    'max_pool2d', 'avg_pool2d', 'dropout', 'detach', 'param',
    'cross_entropy', 'mse', 'bce_with_logits',
    'fashion_mnist', 'mnist', 'cifar10', 'spirals', 'moons', 'xor', 'csv', 'idx', 'npy', 'SGD', 'Adam', 'AdamW',
  ];
  for (const name of names) assert.ok(languageDoc.includes(`\`${name}(`), `docs/language.md does not document \`${name}(...)\``);
});

test('examples/*.nn: each opens with a comment, has a train block and checks cleanly', () => {
  const examplesDir = join(root, 'examples');
  const files = readdirSync(examplesDir).filter((f) => f.endsWith('.nn'));
  for (const name of ['mlp_spirals', 'moons', 'xor', 'fashion_mlp', 'fashion_cnn', 'custom_grad', 'resnet_block']) {
    assert.ok(files.includes(`${name}.nn`), `examples/${name}.nn is missing`);
  }
  for (const file of files) {
    const text = readFileSync(join(examplesDir, file), 'utf8');
    assert.ok(text.startsWith('# '), `examples/${file} does not open with a comment saying what it shows`);
    assert.match(text, /^train \w+ \{/m, `examples/${file} has no train block`);
    const result = checkProgram(text, { readDataHeader: readDataHeader(examplesDir) });
    assert.deepEqual(problems(result), [], `examples/${file}`);
    assert.equal(result.trains.length, 1, `examples/${file} has one checked train block`);
  }
});
