import { appendFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { filterLog, type LogEntry, type LogReadOptions, type LogStore } from '../runtime/logs.js';

/**
 * Logs as JSON lines beside each record (`containers/<id>/container.log`), like
 * docker's json-file driver: {"stream":"stdout","time":ms,"log":"base64"}.
 */
export class FsLogStore implements LogStore {
  constructor(private readonly dir: string) {}

  private file(id: string) {
    return join(this.dir, id, 'container.log');
  }

  async append(id: string, e: LogEntry): Promise<void> {
    mkdirSync(join(this.dir, id), { recursive: true });
    appendFileSync(this.file(id), JSON.stringify({ stream: e.stream, time: e.time, log: Buffer.from(e.data).toString('base64') }) + '\n');
  }

  async read(id: string, options: LogReadOptions = {}): Promise<LogEntry[]> {
    let text: string;
    try {
      text = readFileSync(this.file(id), 'utf8');
    } catch {
      return [];
    }
    const entries: LogEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const j = JSON.parse(line) as { stream: 'stdout' | 'stderr'; time: number; log: string };
        entries.push({ stream: j.stream, time: j.time, data: new Uint8Array(Buffer.from(j.log, 'base64')) });
      } catch {
        // A line cut short by a crash: skip it.
      }
    }
    return filterLog(entries, options);
  }

  async delete(id: string): Promise<void> {
    rmSync(this.file(id), { force: true });
  }
}
