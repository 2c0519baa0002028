/** Finding and reading a compose file from disk (Node), for `skiff compose`. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { notFound } from '../errors/index.js';
import { loadCompose } from '../compose/load.js';
import type { ComposeProject } from '../compose/model.js';

/** The names docker compose looks for, in its order. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export function findComposeFile(dir: string): string {
  for (const name of COMPOSE_FILE_NAMES) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw notFound(`no compose file in ${dir} (looked for ${COMPOSE_FILE_NAMES.join(', ')}); pass one with -f`);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function loadComposeFile(o: { file?: string; cwd?: string; projectName?: string; projectDir?: string; env?: Record<string, string | undefined> } = {}): ComposeProject {
  const cwd = o.cwd ?? process.cwd();
  const file = o.file ? resolve(cwd, o.file) : findComposeFile(cwd);
  const text = readText(file);
  if (text === undefined) throw notFound(`compose file ${file} not found`);
  return loadCompose({
    text,
    file,
    dir: o.projectDir ? resolve(cwd, o.projectDir) : dirname(file),
    env: o.env ?? process.env,
    readText,
    home: homedir(),
    ...(o.projectName ? { projectName: o.projectName } : {}),
  });
}
