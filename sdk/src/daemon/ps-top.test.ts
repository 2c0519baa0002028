import { describe, expect, it } from 'vitest';
import { filterPsOutput, psTop } from './ps-top.js';

describe('docker top with ps options', () => {
  it('keeps the rows of the given PIDs, the last column whole', () => {
    const out = 'UID   PID  PPID CMD\nroot    1     0 /sbin/init splash\nroot  420     1 sleep 30\nbob   421   420 sh -c echo  hi\n';
    expect(filterPsOutput(out, new Set([420, 421]))).toEqual({ Titles: ['UID', 'PID', 'PPID', 'CMD'], Processes: [['root', '420', '1', 'sleep 30'], ['bob', '421', '420', 'sh -c echo hi']] });
  });

  it('says so when the options leave out the PID column', () => {
    expect(() => filterPsOutput('COMMAND\nsleep\n', new Set([1]))).toThrow(/Couldn't find PID field/);
  });

  it('runs the host\'s ps: this process by -o pid,comm', async () => {
    const r = await psTop('-o pid,comm', new Set([process.pid]));
    expect(r.Titles).toEqual(['PID', 'COMMAND']);
    expect(r.Processes).toEqual([[String(process.pid), 'node']]);
    await expect(psTop('--no-such-option', new Set([1]))).rejects.toThrow(/ps --no-such-option failed/);
  });
});
