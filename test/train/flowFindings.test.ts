// The Wrong/Fixed examples of docs/diagnostics.md for the gradient-flow and NaN findings
// (NN5001–NN5005), trained on both back ends: the Wrong one reports its code at the same lines
// and steps on each, the Fixed one on neither.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { docsExamples, runSetup, type Outcome } from '../../bench/diagnose/harness.js';

const of = (o: Outcome, code: string) => o.findings.map((f, i) => ({ code: f.code, line: o.lines[i], step: f.step, layer: f.layer })).filter((f) => f.code === code);

/** The line of each Wrong example's finding: its layers' (all on line 2), the `relu`'s, the `sqrt`'s, the `tanh`'s. */
for (const [code, line] of [['NN5001', 2], ['NN5002', 2], ['NN5003', 2], ['NN5004', 2], ['NN5005', 4]] as const) {
  test(`docs/diagnostics.md ${code}: the Wrong example reports it at line ${line} at the same steps on both back ends, the Fixed one on neither`, async () => {
    const { wrong, fixed } = docsExamples(code);
    const ts = await runSetup({ name: code, text: wrong }, 'ts');
    const onnx = await runSetup({ name: code, text: wrong }, 'onnx');
    assert.equal(onnx.backend, 'onnx');
    const found = of(ts, code);
    assert.ok(found.length > 0 && found.every((f) => f.line === line), `${code} on ts: ${ts.findings.map((f) => `${f.code} ${f.message}`).join('\n') || 'nothing'}`);
    assert.deepEqual(of(onnx, code), found, 'the same layers at the same steps on ONNX');
    for (const backend of ['ts', 'onnx'] as const) {
      const good = await runSetup({ name: code, text: fixed }, backend);
      assert.deepEqual(of(good, code), [], `${backend}: ${good.findings.map((f) => f.message).join('\n')}`);
    }
  });
}

test('a gradient that explodes into NaN between two sampled steps: NN5002 at the step before the NaN, on both back ends', async () => {
  const text = `model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 64)
  fc2 = Linear(64, 64)
  fc3 = Linear(64, 2)
  return fc3(relu(fc2(relu(fc1(x)))))
}

train M {
  data = moons(points = 200)
  optimizer = SGD(lr = 200, momentum = 0.9)
  epochs = 5
  batch = 32
}
`;
  const ts = await runSetup({ name: 'exploding', text }, 'ts');
  const onnx = await runSetup({ name: 'exploding', text }, 'onnx');
  assert.equal(onnx.backend, 'onnx');
  const nan = of(ts, 'NN5004');
  assert.equal(nan.length, 1, ts.findings.map((f) => f.message).join('\n'));
  const exploding = of(ts, 'NN5002');
  assert.ok(exploding.length > 0 && exploding.every((f) => f.step === nan[0].step - 1), ts.findings.map((f) => `${f.code} step ${f.step}`).join(', '));
  assert.deepEqual(of(onnx, 'NN5002'), exploding);
  assert.deepEqual(of(onnx, 'NN5004').map((f) => f.step), [nan[0].step]);
});
