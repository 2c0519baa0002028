/**
 * The WASI host through a real C program (test/wasi/probe.c, built with
 * clang --target=wasm32-wasi): exit codes, traps, clocks, sleeps, random,
 * deterministic runs, sockets errno, stdio batching, stdin.
 */
import { describe, expect, it } from 'vitest';
import { probe } from './support/probe.js';
import { Errno } from '../src/wasi/defs.js';
import { TRAP_EXIT_CODE } from '../src/wasi/run.js';

describe('WASI host: process lifecycle', () => {
  it('passes args and exactly the given environment', async () => {
    const r = await probe(['args', 'two words', 'ünï'], { env: ['A=1', 'B=x=y'] });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('0=probe\n1=args\n2=two words\n3=ünï\n');
    const e = await probe(['env'], { env: ['A=1', 'B=x=y'] });
    expect(e.stdout).toBe('A=1\nB=x=y\n');
  });

  it('ends with the exit code given to exit(), like a Linux process (n & 0xff)', async () => {
    for (const [code, want] of [[0, 0], [3, 3], [126, 126], [255, 255], [256, 0], [300, 44]] as const) {
      const r = await probe(['exit', String(code)]);
      expect(r.exitCode, `exit(${code})`).toBe(want);
      expect(r.stdout).toBe('exiting\n');
      expect(r.error).toBeUndefined();
    }
  });

  it('turns traps into exit code 134 with the trap named, never a host exception', async () => {
    const unreachable = await probe(['trap']);
    expect(unreachable).toMatchObject({ exitCode: TRAP_EXIT_CODE, stdout: 'before trap\n' });
    expect(unreachable.error).toMatch(/wasm trap: unreachable/);
    const oob = await probe(['oob']);
    expect(oob.exitCode).toBe(TRAP_EXIT_CODE);
    expect(oob.error).toMatch(/wasm trap: memory access out of bounds/);
    const div = await probe(['divzero']);
    expect(div.exitCode).toBe(TRAP_EXIT_CODE);
    expect(div.error).toMatch(/wasm trap: divide by zero/);
  });

  it('traps a WASI call whose pointers leave linear memory, writing nothing of it', async () => {
    for (const which of ['iov', 'array']) {
      const r = await probe(['badptr', which]);
      expect(r, which).toMatchObject({ exitCode: TRAP_EXIT_CODE, stdout: 'before\n' });
      expect(r.error, which).toMatch(/outside linear memory/);
    }
  });

  it('reports a stack overflow as a trap (the engine call stack, and the C stack in linear memory)', async () => {
    const engine = await probe(['deep']);
    expect(engine.exitCode).toBe(TRAP_EXIT_CODE);
    expect(engine.error).toBe('wasm trap: call stack exhausted (stack overflow)');
    const shadow = await probe(['stack']);
    expect(shadow.exitCode).toBe(TRAP_EXIT_CODE);
    expect(shadow.error).toMatch(/wasm trap: memory access out of bounds/);
  });
});

describe('WASI host: clocks, sleeping and random', () => {
  it('answers clock_time_get and clock_res_get for all four clocks', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await probe(['clocks']);
    const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => {
      const [name, a, t, b, res] = l.split(' ');
      return [name, { ok: a === '0' && b === '0', t: BigInt(t!), res: BigInt(res!) }];
    }));
    for (const name of ['realtime', 'monotonic', 'process', 'thread']) {
      expect(rows[name]?.ok, name).toBe(true);
      expect(rows[name]!.res, name).toBeGreaterThan(0n);
    }
    const realtime = rows['realtime']!.t;
    expect(realtime).toBeGreaterThanOrEqual(before - 1_000_000_000n);
    expect(realtime).toBeLessThan(before + 60_000_000_000n);
    expect(rows['process']!.t).toBeLessThan(60_000_000_000n);
  });

  it('refuses an unknown clock with EINVAL', async () => {
    expect((await probe(['badclock'])).stdout).toBe(`${Errno.INVAL}\n`);
  });

  it('really sleeps (relative) without burning the CPU', async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await probe(['sleep', '500']);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const slept = Number(/slept (\d+)/.exec(r.stdout)![1]);
    expect(slept).toBeGreaterThanOrEqual(500);
    expect(wall).toBeGreaterThanOrEqual(499);
    // Atomics.wait blocks: far less CPU than wall time passed.
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(wall * 0.6);
  });

  it('sleeps until an absolute monotonic deadline', async () => {
    const t0 = performance.now();
    const r = await probe(['sleep-abs', '60']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(59);
    expect(r.stdout).toBe('poll 0 n=1 userdata=42 type=0 waited>=1\n');
  });

  it('reports stdin as readable at once when it holds data, and as a hangup at EOF', async () => {
    expect((await probe(['poll-stdin'], { stdin: 'abc' })).stdout).toBe('poll 0 n=1 first=1 nbytes=3 hangup=0\n');
    expect((await probe(['poll-stdin'])).stdout).toBe('poll 0 n=1 first=1 nbytes=0 hangup=1\n');
  });

  it('fills random_get with fresh bytes', async () => {
    const a = (await probe(['random', '64'])).stdout.trim();
    const b = (await probe(['random', '64'])).stdout.trim();
    expect(a).toMatch(/^[0-9a-f]{128}$/);
    expect(a).not.toBe(b);
    expect(a).not.toBe('0'.repeat(128));
  });

  it('gives identical output in deterministic mode (time and random), different seeds differ', async () => {
    const a = await probe(['now'], { deterministic: { seed: 7 } });
    const b = await probe(['now'], { deterministic: { seed: 7 } });
    const c = await probe(['now'], { deterministic: { seed: 8 } });
    expect(a.stdout).toMatch(/^realtime=\d+ monotonic=\d+ random=[0-9a-f]{16} rand=\d+\n$/);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).not.toBe(a.stdout);
    // Time starts at the given instant.
    const d = await probe(['now'], { deterministic: { timeNs: 1_700_000_000_000_000_000n } });
    expect(d.stdout).toMatch(/^realtime=17000000000000\d{5} /);
  });

  it('does not really wait on a deterministic sleep, but time moves on', async () => {
    const t0 = performance.now();
    const r = await probe(['sleep', '60000'], { deterministic: {} });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(Number(/slept (\d+)/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(60000);
  });
});

describe('WASI host: errno for what does not exist here', () => {
  it('answers sock_* with ENOTSOCK on an open fd and EBADF on a closed one', async () => {
    const r = await probe(['sockets']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe([
      'shutdown(stdout)=-1 ENOTSOCK',
      'shutdown(99)=-1 EBADF',
      `sock_recv(1)=${Errno.NOTSOCK}`,
      `sock_send(1)=${Errno.NOTSOCK}`,
      `sock_accept(1)=${Errno.NOTSOCK} sock_accept(99)=${Errno.BADF}`,
      '',
    ].join('\n'));
  });

  it('answers proc_raise with ENOTSUP (as wasmtime)', async () => {
    expect((await probe(['raise'])).stdout).toBe(`proc_raise=${Errno.NOTSUP}\n`);
  });
});

describe('WASI host: standard streams', () => {
  it('batches output: 10,000 lines take a handful of host writes', async () => {
    const r = await probe(['lines', '10000']);
    expect(r.stdout.split('\n').length).toBe(10001);
    expect(r.stdout.endsWith('line 9999\n')).toBe(true);
    expect(r.hostWrites).toBeLessThanOrEqual(4);
  });

  it('batches even when the guest writes every line with its own fd_write', async () => {
    const r = await probe(['lines-unbuffered', '10000']);
    expect(r.stdout.endsWith('line 9999\n')).toBe(true);
    expect(r.process.host.memory).toBeDefined();
    expect(r.hostWrites).toBeLessThanOrEqual(4);
  });

  it('counts fd_write calls when asked, to show the batching is on the host side', async () => {
    const r = await probe(['lines-unbuffered', '1000'], { countCalls: true });
    expect(r.process.host.counts.get('fd_write')).toBeGreaterThanOrEqual(1000);
    expect(r.hostWrites).toBe(1);
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await probe(['stderr']);
    expect(r.stdout).toBe('to stdout\n');
    expect(r.stderr).toBe('to stderr\n');
  });

  it('reads stdin to EOF', async () => {
    const text = 'x'.repeat(100_000) + '\nend\n';
    expect((await probe(['cat'], { stdin: text })).stdout).toBe(text);
    expect((await probe(['cat'])).stdout).toBe('');
  });
});
