/**
 * The simulated KV block pool, modelled on vLLM V1's: fixed number of blocks, reference counts,
 * full prompt blocks registered under a chained hash for automatic prefix caching, and freed blocks
 * kept (still cached) in LRU order until a new allocation evicts them.
 * Usage (vllm:kv_cache_usage_perc) = 1 − free ÷ total, where cached-but-unreferenced blocks count as free.
 */

export interface Allocation {
  blockIds: number[];
  /** Leading prompt tokens whose KV came from the prefix cache. */
  cachedTokens: number;
}

export class BlockPool {
  // Sparse state: a tiny model on a big GPU has tens of millions of blocks, few of them ever used.
  private readonly refCount = new Map<number, number>();
  private readonly hashOf = new Map<number, string>();
  /** Blocks [nextFresh, numBlocks) have never been handed out; they are taken first, in order. */
  private nextFresh = 0;
  /** Used-then-freed blocks in eviction order (Map keeps insertion order: first = least recent). */
  private readonly free = new Map<number, true>();
  private readonly cached = new Map<string, number>();

  constructor(
    readonly numBlocks: number,
    readonly blockSize: number,
    readonly prefixCaching: boolean,
  ) {}

  get freeBlocks(): number {
    return this.numBlocks - this.nextFresh + this.free.size;
  }

  get usage(): number {
    return this.numBlocks === 0 ? 0 : 1 - this.freeBlocks / this.numBlocks;
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /** Chained hashes of the full blocks of `tokens` (FNV-1a 52-bit, deterministic across processes). */
  blockHashes(tokens: readonly number[]): string[] {
    const out: string[] = [];
    let parent = '';
    const full = Math.floor(tokens.length / this.blockSize);
    for (let b = 0; b < full; b++) {
      let h1 = 0x811c9dc5;
      let h2 = 0x01000193;
      for (let i = 0; i < parent.length; i++) {
        h1 = Math.imul(h1 ^ parent.charCodeAt(i), 16777619);
      }
      for (let i = b * this.blockSize; i < (b + 1) * this.blockSize; i++) {
        const t = tokens[i]!;
        h1 = Math.imul(h1 ^ t, 16777619);
        h2 = Math.imul(h2 ^ (t + 0x9e37), 2246822519);
      }
      parent = (h1 >>> 0).toString(16) + (h2 >>> 0).toString(16);
      out.push(parent);
    }
    return out;
  }

  /** Leading blocks of `hashes` present in the cache (no side effects). */
  cachedPrefixBlocks(hashes: readonly string[]): number {
    if (!this.prefixCaching) return 0;
    let n = 0;
    while (n < hashes.length && this.cached.has(hashes[n]!)) n++;
    return n;
  }

  /**
   * Allocates blocks for a request whose first `totalTokens` tokens need KV now, reusing cached
   * prefix blocks. `maxCachedTokens` caps the cache hit (vLLM always recomputes the last prompt
   * token). Returns null, touching nothing, when the pool cannot satisfy it.
   */
  allocate(hashes: readonly string[], totalTokens: number, maxCachedTokens: number): Allocation | null {
    let hitBlocks = Math.min(this.cachedPrefixBlocks(hashes), Math.floor(maxCachedTokens / this.blockSize));
    if (hitBlocks < 0) hitBlocks = 0;
    const needed = this.blocksFor(totalTokens);
    const hitIds = hashes.slice(0, hitBlocks).map((h) => this.cached.get(h)!);
    const hitFromFree = hitIds.filter((id) => !this.refCount.has(id)).length;
    const fresh = Math.max(0, needed - hitBlocks);
    if (this.freeBlocks - hitFromFree < fresh) return null;
    for (const id of hitIds) this.ref(id);
    const blockIds = [...hitIds];
    for (let i = 0; i < fresh; i++) blockIds.push(this.takeFree());
    return { blockIds, cachedTokens: hitBlocks * this.blockSize };
  }

  /** Grows an allocation to hold `totalTokens`; false (touching nothing) when out of blocks. */
  grow(blockIds: number[], totalTokens: number): boolean {
    const needed = this.blocksFor(totalTokens) - blockIds.length;
    if (needed <= 0) return true;
    if (this.freeBlocks < needed) return false;
    for (let i = 0; i < needed; i++) blockIds.push(this.takeFree());
    return true;
  }

  /** Registers full prompt blocks (by position) in the prefix cache once their KV exists. */
  commit(blockIds: readonly number[], hashes: readonly string[], upToTokens: number): void {
    if (!this.prefixCaching) return;
    const full = Math.min(hashes.length, Math.floor(upToTokens / this.blockSize), blockIds.length);
    for (let i = 0; i < full; i++) {
      const id = blockIds[i]!;
      const h = hashes[i]!;
      if (this.hashOf.has(id)) continue;
      if (this.cached.has(h)) continue;
      this.hashOf.set(id, h);
      this.cached.set(h, id);
    }
  }

  release(blockIds: readonly number[]): void {
    // Free in reverse so a request's tail blocks are evicted before its shared prefix (vLLM does the same).
    for (let i = blockIds.length - 1; i >= 0; i--) {
      const id = blockIds[i]!;
      const rc = (this.refCount.get(id) ?? 0) - 1;
      if (rc < 0) throw new Error(`block ${id} released more often than allocated`);
      if (rc === 0) {
        this.refCount.delete(id);
        this.free.set(id, true);
      } else this.refCount.set(id, rc);
    }
  }

  private ref(id: number): void {
    const rc = this.refCount.get(id) ?? 0;
    if (rc === 0) this.free.delete(id);
    this.refCount.set(id, rc + 1);
  }

  private takeFree(): number {
    let id: number;
    if (this.nextFresh < this.numBlocks) {
      id = this.nextFresh++;
    } else {
      const first = this.free.keys().next();
      if (first.done) throw new Error('block pool exhausted');
      id = first.value;
      this.free.delete(id);
      const h = this.hashOf.get(id);
      if (h !== undefined) {
        this.cached.delete(h);
        this.hashOf.delete(id);
      }
    }
    this.refCount.set(id, 1);
    return id;
  }
}
