import type { BenchCase } from '../harness.js';
import { pullCase } from './pull.js';

/** Every benchmark case; each file in this folder is one scenario. */
export const allCases: BenchCase[] = [pullCase];
