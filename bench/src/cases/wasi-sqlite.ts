/**
 * An SQLite workload (the amalgamation from better-sqlite3, compiled to WASI):
 * inserts in one transaction, an index, 98 queries, an update and a delete,
 * on a database file under /tmp.
 */
import type { BenchCase } from '../harness.js';
import { wasiContenders } from '../peers/wasi-case.js';

export const wasiSqliteCase: BenchCase = {
  name: 'wasi-sqlite',
  description: 'SQLite compiled to WASI: insert rows in a transaction, index, query, update, delete, in a database file under /tmp (node:wasi: a tmpfs host directory)',
  rounds: { quick: 2, full: 7 },
  async setup({ quick }) {
    const rows = quick ? 2000 : 20_000;
    const setup = await wasiContenders(async (s) => {
      const run = await s.warm('sqlitebench');
      return async () => (await run(['/tmp/bench.db', String(rows)])).ms;
    });
    return { ...setup, unit: `ms per ${rows.toLocaleString('en')} rows` };
  },
};
