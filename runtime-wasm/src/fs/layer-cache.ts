/**
 * Layer indexes by diffID: each layer is indexed once and the index is shared
 * by every container of every image that has the layer. Concurrent requests
 * for one layer share one indexing; a failed one is forgotten, so the next
 * request tries again.
 */
import type { LayerIndex } from './layer-index.js';

export class LayerIndexCache {
  private readonly byDiffId = new Map<string, Promise<LayerIndex>>();
  /** Indexes built so far (misses). */
  built = 0;

  /** The index of `diffId`, built by `build` on a miss. */
  get(diffId: string, build: () => Promise<LayerIndex>): Promise<LayerIndex> {
    let p = this.byDiffId.get(diffId);
    if (!p) {
      this.built++;
      p = build();
      this.byDiffId.set(diffId, p);
      p.catch(() => {
        if (this.byDiffId.get(diffId) === p) this.byDiffId.delete(diffId);
      });
    }
    return p;
  }

  has(diffId: string): boolean {
    return this.byDiffId.has(diffId);
  }

  /** Forgets a layer (its image was deleted); containers that use it keep their reference. */
  delete(diffId: string): boolean {
    return this.byDiffId.delete(diffId);
  }

  get size(): number {
    return this.byDiffId.size;
  }
}
