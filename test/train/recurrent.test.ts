// The recurrent layers on the two back ends: examples/lstm_waves.nn lowers to ONNX (the LSTM
// unrolled over its 32 steps), and the same model over a symbolic length T trains on the TS
// engine under `auto`, saying why.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { prepare } from '../../engine/src/run/prepare.js';
import { chooseBackend } from '../../engine/src/run/backendChoice.js';

const examples = resolve('examples');
const text = readFileSync(join(examples, 'lstm_waves.nn'), 'utf8');

function backendOf(source: string) {
  const prepared = prepare(source, { baseDir: examples });
  if (Array.isArray(prepared)) assert.fail(prepared.map((e) => e.message).join('; '));
  return chooseBackend(prepared.model, prepared.check.fnIrs, { ...prepared.train, backend: 'auto' });
}

test('lstm_waves.nn: auto trains the LSTM on the ONNX back end', () => {
  const choice = backendOf(text);
  assert.ok(!('error' in choice) && choice.backend === 'onnx', JSON.stringify(choice));
});

test('an LSTM over a symbolic length falls back to the TS engine with the reason', () => {
  const symbolic = text.replace('model WaveLstm(x: [B, 32, 1])', 'model WaveLstm(x: [B, T, 1])');
  assert.notEqual(symbolic, text);
  const choice = backendOf(symbolic);
  assert.ok(!('error' in choice) && choice.backend === 'ts', JSON.stringify(choice));
  assert.match(choice.reason ?? '', /an LSTM over a sequence with a symbolic dim \(T\)/);
});
