/**
 * WasmSandbox: hermetic tests with a fresh container per test.
 *
 *   const sandbox = await WasmSandbox.fromImage(layout, 'toolbox:latest', { runtime });
 *   const r = await sandbox.run(['sh', '-c', 'echo hi'], { env: { A: '1' }, deterministic: true });
 *   expect(r).toMatchObject({ exitCode: 0, stdout: 'hi\n' });
 *
 * The image is resolved and its layers indexed once, when the sandbox is made;
 * each `run` then makes a new container file system over those indexes (its
 * own writable layer, nothing copied) and takes the compiled module from the
 * cache, so a run costs the guest's own work plus well under a millisecond.
 * `session()` keeps one container's files across several runs.
 */
import {
  ImageStore, concat, envList, invalidArgument, mergeEnv, resolveProcess, WASI_PLATFORM,
  type ImageConfig, type ImageLayout, type ImageSpec, type Mount, type Provider,
} from '@skiff/sdk';
import { guestPreopens, type ContainerFs, type LayerIndex } from './container-fs.js';
import { absolutePath } from './program.js';
import { prepareProgram, WasiProcess, type Deterministic } from './process.js';
import type { WasmRuntime } from './runtime.js';
import { Errno, Oflags, Rights } from './wasi/defs.js';
import { resolvePath } from './wasi/resolve.js';
import { PAGE_BYTES } from './wasm-binary.js';
import { TRAP_EXIT_CODE } from './wasi/run.js';
import { DETERMINISTIC_EPOCH_NS } from './wasi/clock.js';

export interface SandboxRunOptions {
  stdin?: string | Uint8Array;
  /** Added to (and overriding) the image's environment. */
  env?: Record<string, string> | string[];
  /** Working directory (default: the image's WorkingDir, else `/`). */
  cwd?: string;
  /** Replaces the image's entrypoint; `args` then are the whole command after it. */
  entrypoint?: string[];
  /** Fixed clocks and seeded random_get: `true`, or a seed and a start time. */
  deterministic?: boolean | Deterministic;
  /** Ends the run (exit 137) at its first syscall after this many milliseconds. */
  timeoutMs?: number;
  /** Caps linear memory. */
  memoryBytes?: number;
  /** Files written into the container before the program starts (parents are created). */
  files?: Record<string, string | Uint8Array>;
  mounts?: Mount[];
  /** Output is handed over in chunks of about this size (default 64 KiB). */
  flushBytes?: number;
}

export interface SandboxResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
  stderrBytes: Uint8Array;
  /** Why the runtime ended the run: a trap, a timeout. */
  error?: string;
  signal?: string;
  oomKilled?: boolean;
  /** Host writes the output took (batched: a handful for thousands of lines). */
  hostWrites: number;
}

export class WasmSandbox {
  private constructor(
    readonly runtime: WasmRuntime,
    readonly image: ImageSpec,
    private readonly layers: LayerIndex[],
  ) {}

  /** A sandbox for `image` (a name, or an ID) from an OCI image layout such as the sdk's content store. */
  static async fromImage(layout: ImageLayout, image: string, options: { runtime: WasmRuntime }): Promise<WasmSandbox> {
    const resolved = await new ImageStore(layout).resolve(image, [WASI_PLATFORM]);
    const spec: ImageSpec = {
      id: resolved.id,
      config: resolved.config,
      layers: resolved.manifest.layers.map((descriptor, i) => ({ descriptor, diffId: resolved.config.rootfs.diff_ids[i]! })),
    };
    return WasmSandbox.fromSpec(layout, spec, options);
  }

  /** A sandbox for an image already resolved (the Backend contract's ImageSpec). */
  static async fromSpec(content: Provider, image: ImageSpec, options: { runtime: WasmRuntime }): Promise<WasmSandbox> {
    const layers = await options.runtime.layerIndexes(content, image.layers);
    return new WasmSandbox(options.runtime, image, layers);
  }

  get config(): ImageConfig {
    return this.image.config;
  }

  /** A fresh container, as `docker run --rm image args...`: args replace the image's Cmd. */
  async run(args: string[] = [], options: SandboxRunOptions = {}): Promise<SandboxResult> {
    return this.session(options).run(args, options);
  }

  /**
   * A container that keeps its files across runs (for setup steps, or exportChanges).
   * `deterministic` here fixes the times its files get.
   */
  session(options: Pick<SandboxRunOptions, 'mounts' | 'deterministic'> = {}): SandboxSession {
    const det = options.deterministic === true ? {} : options.deterministic || undefined;
    const now = det ? () => det.timeNs ?? DETERMINISTIC_EPOCH_NS : undefined;
    const fs = this.runtime.createFs(this.layers, options.mounts ?? [], false, now);
    return new SandboxSession(this, fs);
  }
}

export class SandboxSession {
  constructor(private readonly sandbox: WasmSandbox, readonly fs: ContainerFs) {}

  async run(args: string[] = [], options: SandboxRunOptions = {}): Promise<SandboxResult> {
    const { sandbox, fs } = this;
    const proc = resolveProcess(sandbox.config.config, {
      image: sandbox.image.id,
      ...(options.entrypoint ? { entrypoint: options.entrypoint } : {}),
      cmd: args,
      ...(options.cwd ? { workingDir: options.cwd } : {}),
    });
    const env = mergeEnv(proc.env, envList(options.env));
    if (options.files) writeFiles(fs, options.files);
    const program = await prepareProgram({
      preopens: guestPreopens(fs), args: proc.args, env, cwd: proc.workingDir, modules: sandbox.runtime.modules,
      ...(options.memoryBytes ? { memoryLimitBytes: options.memoryBytes } : {}),
      ...(fs.moduleKey ? { keyOf: fs.moduleKey.bind(fs) } : {}),
    });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const stdin = typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : options.stdin;
    const det = options.deterministic === true ? {} : options.deterministic || undefined;
    const p = new WasiProcess(program, { ...(stdin ? { stdin } : {}), stdout: (c) => out.push(c), stderr: (c) => err.push(c) }, {
      preopens: guestPreopens(fs), env, cwd: proc.workingDir,
      ...(det ? { deterministic: det } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.flushBytes !== undefined ? { flushBytes: options.flushBytes } : {}),
    });
    const r = await p.run();
    const stdoutBytes = join(out), stderrBytes = join(err);
    // The strings are decoded when first read: a caller that wants the bytes (or nothing) pays nothing.
    let stdout: string | undefined, stderr: string | undefined;
    const result: SandboxResult = {
      exitCode: r.exitCode,
      get stdout() {
        return (stdout ??= decoder.decode(stdoutBytes));
      },
      set stdout(v: string) {
        stdout = v;
      },
      get stderr() {
        return (stderr ??= decoder.decode(stderrBytes));
      },
      set stderr(v: string) {
        stderr = v;
      },
      stdoutBytes, stderrBytes,
      hostWrites: p.stdout.hostWrites + p.stderr.hostWrites,
    };
    if (r.error) result.error = r.error;
    if (r.signal) result.signal = r.signal;
    const limit = options.memoryBytes;
    if (limit && r.exitCode === TRAP_EXIT_CODE && r.memoryBytes + PAGE_BYTES > Math.floor(limit / PAGE_BYTES) * PAGE_BYTES) result.oomKilled = true;
    return result;
  }

  exportChanges(): ReadableStream<Uint8Array> {
    return this.fs.exportChanges();
  }
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

function join(parts: Uint8Array[]): Uint8Array {
  return parts.length === 0 ? EMPTY : concat(parts);
}

/** Writes files through the container's own Fds (so they land in its writable layer). */
export function writeFiles(fs: ContainerFs, files: Record<string, string | Uint8Array>): void {
  const root = fs.preopens.find((p) => p.name === '/')?.fd;
  if (!root) throw invalidArgument('the container has no root directory to write files into');
  for (const [path, content] of Object.entries(files)) {
    const abs = absolutePath('/', path);
    const parts = abs.split('/').filter(Boolean);
    if (!parts.length) throw invalidArgument(`cannot write a file at "${path}"`);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const r = resolvePath(root, dir, true, root);
      if (r.ok && r.value.kind === 'entry' && !r.value.inode) {
        const ret = r.value.dir.path_create_directory(r.value.name);
        if (ret !== Errno.SUCCESS && ret !== Errno.EXIST) throw invalidArgument(`cannot create /${dir} (WASI errno ${ret})`);
      }
    }
    const r = resolvePath(root, parts.join('/'), true, root);
    if (!r.ok || r.value.kind !== 'entry') throw invalidArgument(`cannot write ${abs}: ${r.ok ? 'is a directory' : `WASI errno ${r.errno}`}`);
    const opened = r.value.dir.path_open(0, r.value.name, Oflags.CREAT | Oflags.TRUNC, Rights.FD_WRITE | Rights.FD_SEEK, 0n, 0);
    if (!opened.fd_obj) throw invalidArgument(`cannot write ${abs} (WASI errno ${opened.ret})`);
    const data = typeof content === 'string' ? encoder.encode(content) : content;
    const w = opened.fd_obj.fd_write(data);
    opened.fd_obj.fd_close();
    if (w.ret !== Errno.SUCCESS) throw invalidArgument(`cannot write ${abs} (WASI errno ${w.ret})`);
  }
}
