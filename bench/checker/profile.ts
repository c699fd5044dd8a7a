// A profiling driver: checks the benchmark file repeatedly so that a CPU profile shows the hot spots.
// Run: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/checker/profile.ts

import { checkProgram } from '../../engine/src/lang/program.js';
import { generate } from './model.js';

const text = generate();
for (let k = 0; k < 40; k++) checkProgram(text);
