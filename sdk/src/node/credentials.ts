/**
 * Registry credentials on disk. `skiff login` writes
 * `{"auths":{"REGISTRY":{"auth":"base64(user:pass)"}}}` to auth.json (mode
 * 0600) under the skiff root, or under $SKIFF_CONFIG when set; lookups fall
 * back to Docker's config.json `auths`, so a `docker login` works for skiff too.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { dataLoss, invalidArgument } from '../errors/index.js';
import { parseReference } from '../image/reference.js';
import { checkCredentials } from '../registry/login.js';
import type { CredentialSource, Credentials, RegistryOptions } from '../registry/types.js';
import { writeFileAtomicSync } from './atomic.js';
import { withLock } from './lock.js';
import { defaultRoot, rootPaths } from './root.js';

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface AuthFile {
  auths?: Record<string, AuthEntry>;
  [other: string]: unknown;
}

/** $SKIFF_CONFIG/auth.json, else auth.json in the skiff root. */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SKIFF_CONFIG) return join(env.SKIFF_CONFIG, 'auth.json');
  return rootPaths(defaultRoot(env)).auth;
}

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

/**
 * The key a registry is stored under: its domain as image references spell it.
 * `https://index.docker.io/v1/` and `docker.io` both become `docker.io`.
 */
export function registryKey(input: string): string {
  let s = input.trim().toLowerCase();
  if (s === '') return 'docker.io';
  s = s.replace(/^[a-z]+:\/\//, '');
  s = s.split('/')[0]!;
  try {
    return parseReference(`${s}/x`).domain;
  } catch {
    throw invalidArgument(`"${input}" is not a registry name; expected HOST or HOST:PORT, e.g. localhost:5000`);
  }
}

function decode(entry: AuthEntry | undefined): Credentials | undefined {
  if (!entry) return undefined;
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  return undefined;
}

function readAuthFile(path: string, strict: boolean): AuthFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    if (!strict) return {};
    throw dataLoss(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  try {
    const v = JSON.parse(text) as AuthFile;
    return v && typeof v === 'object' ? v : {};
  } catch (err) {
    // Docker's file is the user's; a broken one must not stop anonymous pulls.
    if (!strict) return {};
    throw dataLoss(`${path} is not valid JSON; fix it or remove it and run \`skiff login\` again`, err);
  }
}

function findEntry(file: AuthFile, key: string): AuthEntry | undefined {
  const auths = file.auths ?? {};
  if (auths[key]) return auths[key];
  for (const [k, v] of Object.entries(auths)) {
    try {
      if (registryKey(k) === key) return v;
    } catch {
      // an odd key in someone's config: not ours
    }
  }
  return undefined;
}

export interface CredentialStoreOptions {
  /** skiff's own file. Default: defaultAuthFile(). */
  file?: string;
  /** Docker's config.json to fall back to, or false for none. Default: dockerConfigFile(). */
  dockerConfig?: string | false;
}

export class CredentialStore {
  readonly file: string;
  readonly dockerConfig: string | false;

  constructor(o: CredentialStoreOptions = {}) {
    this.file = o.file ?? defaultAuthFile();
    this.dockerConfig = o.dockerConfig ?? dockerConfigFile();
  }

  /** Credentials for a registry: skiff's file first, then Docker's. */
  async get(registry: string): Promise<Credentials | undefined> {
    const key = registryKey(registry);
    const own = decode(findEntry(readAuthFile(this.file, true), key));
    if (own) return own;
    if (this.dockerConfig === false) return undefined;
    return decode(findEntry(readAuthFile(this.dockerConfig, false), key));
  }

  async set(registry: string, c: Credentials): Promise<void> {
    if (!c.username || c.username.includes(':')) throw invalidArgument('the user name must be non-empty and hold no ":"');
    const key = registryKey(registry);
    await this.update((auths) => {
      auths[key] = { auth: Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64') };
    });
  }

  /** Forgets a registry's credentials in skiff's file; true when there were some. */
  async remove(registry: string): Promise<boolean> {
    const key = registryKey(registry);
    let found = false;
    await this.update((auths) => {
      for (const k of Object.keys(auths)) {
        let match = k === key;
        try { match ||= registryKey(k) === key; } catch { /* not a registry key */ }
        if (match) {
          delete auths[k];
          found = true;
        }
      }
    });
    return found;
  }

  /** For RegistryOptions.credentials. */
  get source(): CredentialSource {
    return (registry: string) => this.get(registry);
  }

  private async update(fn: (auths: Record<string, AuthEntry>) => void): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    await withLock(`${this.file}.lock`, () => {
      const data = readAuthFile(this.file, true);
      const auths = { ...(data.auths ?? {}) };
      fn(auths);
      writeFileAtomicSync(this.file, `${JSON.stringify({ ...data, auths }, null, 2)}\n`, 0o600);
      chmodSync(this.file, 0o600);
    });
  }
}

export interface LoginOptions extends Omit<RegistryOptions, 'credentials'> {
  /** `localhost:5000`; empty means docker.io. */
  registry: string;
  username: string;
  password: string;
  store?: CredentialStore;
  signal?: AbortSignal;
}

/** Checks the credentials against the registry (GET /v2/), then saves them. Returns the registry key. */
export async function login(o: LoginOptions): Promise<string> {
  const key = registryKey(o.registry);
  const { registry: _r, username, password, store, ...rest } = o;
  await checkCredentials(key, { username, password }, rest);
  await (store ?? new CredentialStore()).set(key, { username, password });
  return key;
}

/** Removes saved credentials; false when there were none (in skiff's file). */
export async function logout(o: { registry: string; store?: CredentialStore }): Promise<boolean> {
  return (o.store ?? new CredentialStore()).remove(o.registry);
}
