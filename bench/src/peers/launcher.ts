/**
 * A long-lived shell that starts the OCI runtimes for the benchmark, so each
 * run costs only the shell's fork and exec (the same for crun and runc). It
 * lives in a private mount namespace where, on a cgroup v1 + v2 hybrid host,
 * /sys/fs/cgroup/unified is unmounted: crun 1.8 refuses the hybrid layout
 * otherwise. The host's mounts are not touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { which } from './tools.js';

export class Launcher {
  private buffer = '';
  private waiting: Array<(line: string) => void> = [];
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      this.buffer += s;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  static async start(): Promise<Launcher> {
    const unshare = which('unshare');
    if (!unshare) throw new Error('unshare (util-linux) is missing');
    const child = spawn(unshare, ['-m', '--propagation', 'private', 'sh'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const l = new Launcher(child);
    const ready = await l.send("grep -q ' /sys/fs/cgroup/unified ' /proc/self/mounts && umount -l /sys/fs/cgroup/unified; echo ready");
    if (ready !== 'ready') throw new Error(`the launcher shell did not start: ${ready}`);
    return l;
  }

  private send(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return reject(new Error('the launcher shell has exited'));
      this.waiting.push(resolve);
      this.child.stdin!.write(`${line}\n`);
    });
  }

  /** Runs `argv` (no shell syntax; words are single-quoted) and returns its exit code and the last of its stderr. */
  async run(argv: string[], errFile: string): Promise<number> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const reply = await this.send(`${argv.map(q).join(' ')} </dev/null >/dev/null 2>${q(errFile)}; echo "done $?"`);
    const m = /^done (\d+)$/.exec(reply);
    if (!m) throw new Error(`unexpected launcher reply: ${reply}`);
    return Number(m[1]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end('exit\n');
    await exited;
  }
}
