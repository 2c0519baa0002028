/**
 * exec in worker mode, the worker's side. The container's file system lives
 * in its worker, whose thread runs the main guest; an exec request is served
 * while that guest is blocked in a host call (requests.ts): the exec'd
 * program runs to its end right there, nested in the call, over the same
 * file system (it sees and makes the container's real changes), and the main
 * guest then resumes its wait. An exec that blocks can serve further
 * requests in turn, so execs nest like a stack.
 *
 * Each exec has a control word in shared memory: the host sets KILLED to end
 * it. The guest sees it at its next host call, or at once when it is blocked
 * (the host rings the bell too); only the exec ends, not the container. An
 * exec killed before it was served (the host gave up waiting) never starts.
 */
import { cancelled, failedPrecondition, type ExitStatus, type ProcessSpec } from '@skiff/sdk';
import type { WasmContainer } from '../backend.js';
import type { CompileNow } from '../process.js';
import { GuestKilled } from '../wasi/host.js';
import type { InputFd } from '../wasi/stdio.js';
import type { StdinSource } from './protocol.js';
import type { Respond } from './requests.js';
import { SharedInputFd } from './stdin-channel.js';

export const KILLED = 0;
export const CONTROL_BYTES = 4;
const KILL_REASON = 'killed (SIGKILL)';

export interface ExecRequest {
  /** Tags the exec's output and exit events (the host's run numbers). */
  run: number;
  proc: ProcessSpec;
  stdin: StdinSource;
  /** An Int32Array's buffer: [KILLED]. */
  control: SharedArrayBuffer;
}

export interface ExecEvents {
  out(run: number, fd: 1 | 2, data: Uint8Array): void;
  exit(run: number, status: ExitStatus): void;
}

export class NestedExecs {
  /** Control words of the execs running now, innermost last: the one that is blocked, if any is. */
  private readonly running: Int32Array[] = [];

  constructor(
    private readonly container: () => WasmContainer | undefined,
    private readonly compile: CompileNow,
    private readonly events: ExecEvents,
  ) {}

  /** The `exec` request handler: answers once the program is about to run, then runs it to its end. */
  readonly handle = (req: ExecRequest, respond: Respond): void => {
    const c = this.container();
    if (!c) throw failedPrecondition('the container is not running: its main process has ended');
    const control = new Int32Array(req.control);
    if (Atomics.load(control, KILLED)) throw cancelled('the exec was given up before it could start');
    let stdin: Uint8Array | InputFd | undefined;
    if (req.stdin.kind === 'shared') stdin = new SharedInputFd(req.stdin.buffer);
    else if (req.stdin.kind === 'bytes') stdin = req.stdin.data;
    const run = req.run;
    const guard = () => {
      if (Atomics.load(control, KILLED)) throw new GuestKilled(KILL_REASON);
    };
    this.running.push(control);
    let status: ExitStatus;
    try {
      status = c.execNow(req.proc, {
        ...(stdin ? { stdin } : {}),
        stdout: (data) => this.events.out(run, 1, data),
        stderr: (data) => this.events.out(run, 2, data),
      }, this.compile, { guard, started: () => respond() });
    } finally {
      this.running.pop();
    }
    this.events.exit(run, status);
  };

  /** Ends the innermost exec if it was killed: called from a blocked wait, inside that exec's host call. */
  checkKilled(): void {
    const top = this.running[this.running.length - 1];
    if (top && Atomics.load(top, KILLED)) throw new GuestKilled(KILL_REASON);
  }
}
