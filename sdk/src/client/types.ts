/**
 * The interface a Node app programs against to run containers, whatever runs
 * them: the local Engine implements it, and so does DockerClient (a remote
 * skiff daemon, or Docker's). Same names, same options, same results.
 */
import type { CreateOptions } from '../runtime/options.js';
import type { ExitStatus, ProcessStats, TtySize } from '../runtime/backend.js';
import type { ExecOptions, LogsOptions, RunResult, StartOptions, WaitCondition } from '../runtime/engine.js';
import type { LogEntry } from '../runtime/logs.js';
import type { VolumeStore } from '../volumes/types.js';

export interface ExecStdio {
  stdout: WritableStream<Uint8Array>;
  stderr: WritableStream<Uint8Array>;
  stdin?: ReadableStream<Uint8Array>;
}

export interface ContainerRuntime {
  create(o: CreateOptions): Promise<{ id: string }>;
  /** With `stdin`, the run reads it (over the API: create with `openStdin`). */
  start(id: string, o?: StartOptions): Promise<void>;
  wait(id: string, condition?: WaitCondition): Promise<ExitStatus>;
  kill(id: string, signal?: string): Promise<void>;
  stop(id: string, o?: { timeoutSec?: number }): Promise<void>;
  restart(id: string, o?: { timeoutSec?: number }): Promise<void>;
  remove(id: string, o?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** Each entry says its stream (stdout or stderr) and its time. */
  logs(id: string, o?: LogsOptions): Promise<ReadableStream<LogEntry>>;
  /** Output from now until the run ends; before start, all of it. */
  attach(id: string): Promise<ReadableStream<LogEntry>>;
  exec(id: string, o: ExecOptions): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** With `tty`, the output is one stream (stdout) and `resize` sets the terminal's window. */
  execStreams(id: string, o: ExecOptions, stdio: ExecStdio): Promise<{ wait(): Promise<ExitStatus>; resize?(size: TtySize): Promise<void> }>;
  /** Sets the window size of a running `tty` container's terminal. */
  resize(id: string, size: TtySize): Promise<void>;
  /** create + start + wait, collecting the output. */
  run(o: CreateOptions & StartOptions & { rm?: boolean }): Promise<RunResult>;
  stats(id: string): Promise<ProcessStats>;
  readonly volumes: VolumeStore;
}

/** `docker ps` rows (`GET /containers/json`), the fields skiff and Docker both give. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  [key: string]: unknown;
}

/** `docker inspect` of a container (`GET /containers/{id}/json`), main fields. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Image: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string; OOMKilled: boolean; StartedAt: string; FinishedAt: string };
  Config: { Image: string; Env: string[] | null; Cmd: string[] | null; Entrypoint: string[] | null; WorkingDir: string; User: string; Labels: Record<string, string> | null; Tty: boolean; OpenStdin: boolean; Hostname: string };
  HostConfig: { AutoRemove: boolean; NetworkMode: string; [key: string]: unknown };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
  [key: string]: unknown;
}

/** `docker images` rows (`GET /images/json`). */
export interface ImageSummaryJson {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  Labels: Record<string, string> | null;
  [key: string]: unknown;
}

/** `docker image inspect` (`GET /images/{name}/json`), main fields. */
export interface ImageInspectJson {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Architecture: string;
  Os: string;
  Size: number;
  Config: { Cmd?: string[] | null; Entrypoint?: string[] | null; Env?: string[] | null; WorkingDir?: string; Labels?: Record<string, string> | null; [key: string]: unknown };
  RootFS: { Type: string; Layers: string[] };
  [key: string]: unknown;
}

/** One line of a pull or push progress stream. */
export interface ProgressMessage {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: Record<string, unknown>;
  stream?: string;
  error?: string;
  errorDetail?: { message: string };
}
