/**
 * The newline-delimited JSON answers of pull, push, load and build. The head
 * is sent with the first line, so a failure before any output is an ordinary
 * API error (a 404 for an image that does not exist); a failure after it is a
 * final `{"errorDetail": ..., "error": ...}` line, which clients print.
 */
import { SkiffError, toSkiffError } from '../errors/index.js';
import type { Exchange, ResponseStream } from './exchange.js';

export class JsonLines {
  private out?: ResponseStream;
  private held: object[] = [];

  constructor(private readonly x: Exchange, private readonly lazy = true) {
    if (!lazy) this.open();
  }

  private open(): ResponseStream {
    this.out ??= this.x.stream(200, { 'Content-Type': 'application/json' });
    return this.out;
  }

  /** Keeps a line until the first `send` (or `end`): it goes out only if the work gets going. */
  hold(line: object): void {
    if (this.out) void this.out.write(JSON.stringify(line) + '\n');
    else this.held.push(line);
  }

  send(line: object): Promise<void> {
    const out = this.open();
    const lines = [...this.held.splice(0), line];
    return out.write(lines.map((l) => JSON.stringify(l) + '\n').join(''));
  }

  get started(): boolean {
    return this.out !== undefined;
  }

  /** Reports a failure: as the HTTP answer when nothing was sent yet, else in the stream. */
  async fail(err: unknown): Promise<void> {
    if (!this.out) throw err;
    const e = err instanceof SkiffError ? err : toSkiffError(err);
    await this.out.write(JSON.stringify({ errorDetail: { message: e.message }, error: e.message }) + '\n');
    this.out.end();
  }

  async end(): Promise<void> {
    if (this.held.length) await this.send(this.held.pop()!);
    this.open().end();
  }
}
