/** Progress events for one blob, with byte updates throttled so a fast download does not flood the listener. */
import { shortDigest, type BlobStatus, type ProgressListener } from './types.js';

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
