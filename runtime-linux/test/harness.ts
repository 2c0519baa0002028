/**
 * A LinuxBackend on a temporary state directory with the busybox image, and
 * `run()` for one-shot containers. close() removes what is left and reports
 * mounts or cgroups that outlived their containers.
 */
import { rmSync } from 'node:fs';
import type { BackendContainer, ContainerSpec, ExitStatus } from '@skiff/sdk';

import { LinuxBackend, type LinuxBackendOptions } from '../src/index.js';
import { busyboxLayer, leftoverCgroups, makeImage, mountsBelow, shSpec, sink, tempDir, textStream, type SpecExtra, type TestImage } from './fixtures.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  status: ExitStatus;
}

export class Harness {
  readonly ids: string[] = [];
  private constructor(readonly backend: LinuxBackend, readonly img: TestImage, readonly state: string) {}

  static async open(options: LinuxBackendOptions = {}, tars?: Uint8Array[]): Promise<Harness> {
    const state = tempDir();
    const img = await makeImage(tars ?? [await busyboxLayer()]);
    const backend = new LinuxBackend(options);
    await backend.init({ content: img.layout, stateDir: state });
    return new Harness(backend, img, state);
  }

  spec(line: string, extra: SpecExtra = {}): ContainerSpec {
    const s = shSpec(this.img.image, line, extra);
    this.ids.push(s.id);
    return s;
  }

  async create(line: string, extra: SpecExtra = {}): Promise<BackendContainer> {
    return this.backend.create(this.spec(line, extra));
  }

  /** create, start, wait, remove. */
  async run(line: string, extra: SpecExtra = {}, stdin?: string): Promise<RunResult> {
    const c = await this.create(line, extra);
    try {
      return await startAndWait(c, stdin);
    } finally {
      await c.remove();
    }
  }

  /** Removes the state directory; returns what leaked (mounts under it, cgroups of its containers). */
  async close(): Promise<{ mounts: string[]; cgroups: string[] }> {
    await this.backend.close();
    const leaks = { mounts: mountsBelow(this.state), cgroups: leftoverCgroups(this.ids) };
    rmSync(this.state, { recursive: true, force: true });
    return leaks;
  }
}

export async function startAndWait(c: BackendContainer, stdin?: string): Promise<RunResult> {
  const out = sink();
  const err = sink();
  await c.start({ stdout: out.stream, stderr: err.stream, ...(stdin !== undefined ? { stdin: textStream(stdin) } : {}) });
  const status = await c.wait();
  return { exitCode: status.exitCode, stdout: out.text(), stderr: err.text(), status };
}

/** Starts c and resolves once it runs; `done` settles with the result when it exits. */
export async function startRunning(c: BackendContainer, stdin?: string): Promise<{ done: Promise<RunResult> }> {
  const out = sink();
  const err = sink();
  await c.start({ stdout: out.stream, stderr: err.stream, ...(stdin !== undefined ? { stdin: textStream(stdin) } : {}) });
  return { done: c.wait().then((status) => ({ exitCode: status.exitCode, stdout: out.text(), stderr: err.text(), status })) };
}
