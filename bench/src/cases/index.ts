import type { BenchCase } from '../harness.js';
import { buildCase } from './build.js';
import { pullCase } from './pull.js';
import { unpackCase } from './unpack.js';

/** Every benchmark case; each file in this folder is one scenario. */
export const allCases: BenchCase[] = [pullCase, unpackCase, buildCase];
