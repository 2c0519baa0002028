/** What every command gets: the engine (made on first use), stdio and global flags. */
import type { Engine } from '../runtime/engine.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CliContext {
  io: Io;
  root: string;
  engine(): Promise<Engine>;
  out(s: string): void;
  err(s: string): void;
}

export interface Command {
  name: string;
  aliases?: string[];
  usage: string;
  description: string;
  /** Returns the process exit code. */
  run(argv: string[], ctx: CliContext): Promise<number>;
}
