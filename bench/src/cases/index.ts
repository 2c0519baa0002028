import type { BenchCase } from '../harness.js';
import { buildCase } from './build.js';
import { linuxStartCase } from './linux-start.js';
import { pullCase } from './pull.js';
import { unpackCase } from './unpack.js';
import { wasiColdStartCase } from './wasi-cold-start.js';
import { wasiContainersPerSecondCase } from './wasi-containers-per-second.js';
import { wasiFilesCase } from './wasi-files.js';
import { wasiMemoryCase } from './wasi-memory.js';
import { wasiSqliteCase } from './wasi-sqlite.js';
import { wasiStdoutBufferedCase, wasiStdoutCase } from './wasi-stdout.js';
import { wasiWarmStartCase } from './wasi-warm-start.js';

/** Every benchmark case; each file in this folder is one scenario. */
export const allCases: BenchCase[] = [
  pullCase,
  unpackCase,
  buildCase,
  wasiColdStartCase,
  wasiWarmStartCase,
  wasiContainersPerSecondCase,
  wasiStdoutCase,
  wasiStdoutBufferedCase,
  wasiFilesCase,
  wasiSqliteCase,
  wasiMemoryCase,
  linuxStartCase,
];
