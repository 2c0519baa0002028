/** Progress events for one blob, with byte updates throttled so a fast download does not flood the listener. */
import { shortDigest, type BlobStatus, type ProgressListener, type RegistryProgress } from './types.js';

export class BlobProgress {
  private last = 0;
  private current = 0;

  constructor(
    private readonly listener: ProgressListener | undefined,
    readonly digest: string,
    readonly kind: 'layer' | 'config',
    readonly total: number,
    private readonly intervalMs = 100,
  ) {}

  status(status: BlobStatus, current = this.current): void {
    this.current = current;
    this.last = Date.now();
    this.emit(status);
  }

  /** A byte count during 'downloading' or 'pushing'; sent at most every intervalMs. */
  bytes(status: 'downloading' | 'pushing', current: number): void {
    this.current = current;
    const now = Date.now();
    if (now - this.last < this.intervalMs && current < this.total) return;
    this.last = now;
    this.emit(status);
  }

  private emit(status: BlobStatus): void {
    if (!this.listener) return;
    try {
      this.listener({ id: shortDigest(this.digest), digest: this.digest, kind: this.kind, status, current: this.current, total: this.total });
    } catch {
      // A failing listener must not break the transfer.
    }
  }
}

/** A progress message as docker's API streams them (`POST /images/create`, `/images/{name}/push`). */
export interface DockerProgressMessage {
  id: string;
  status: string;
  progressDetail: { current?: number; total?: number };
}

const DOCKER_STATUS: Record<'pull' | 'push', Record<BlobStatus, string>> = {
  pull: { waiting: 'Waiting', downloading: 'Downloading', verifying: 'Verifying Checksum', done: 'Pull complete', exists: 'Already exists', pushing: 'Pushing', mounted: 'Mounted' },
  push: { waiting: 'Waiting', downloading: 'Downloading', verifying: 'Verifying Checksum', done: 'Pushed', exists: 'Layer already exists', pushing: 'Pushing', mounted: 'Mounted from another repository' },
};

/** Docker's wording of a progress event, for the daemon's JSON stream and docker-like CLI lines. */
export function toDockerProgress(e: RegistryProgress, op: 'pull' | 'push'): DockerProgressMessage {
  const moving = e.status === 'downloading' || e.status === 'pushing';
  return { id: e.id, status: DOCKER_STATUS[op][e.status], progressDetail: moving ? { current: e.current, total: e.total } : {} };
}
