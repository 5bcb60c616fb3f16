import { describe, expect, it } from 'vitest';
import { BlockPool } from './block-pool';

describe('the KV block pool', () => {
  it('refuses an allocation it cannot satisfy without touching anything', () => {
    const pool = new BlockPool(4, 16, true);
    const a = pool.allocate([], 50, 49)!;
    expect(a.blockIds).toHaveLength(4);
    expect(pool.allocate([], 1, 0)).toBeNull();
    pool.release(a.blockIds);
    expect(pool.freeBlocks).toBe(4);
    expect(pool.usage).toBe(0);
  });

  it('reuses committed prompt blocks as prefix-cache hits, until they are evicted', () => {
    const pool = new BlockPool(6, 4, true);
    const tokens = Array.from({ length: 12 }, (_, i) => i + 10);
    const hashes = pool.blockHashes(tokens);
    expect(hashes).toHaveLength(3);
    const a = pool.allocate(hashes, 12, 11)!;
    pool.commit(a.blockIds, hashes, 12);
    pool.release(a.blockIds);
    const b = pool.allocate(hashes, 12, 11)!;
    expect(b.cachedTokens).toBe(8);
    expect(b.blockIds.slice(0, 2)).toEqual(a.blockIds.slice(0, 2));
    pool.release(b.blockIds);
    // Fill the pool with other data: the cached blocks get evicted.
    const c = pool.allocate([], 24, 0)!;
    pool.release(c.blockIds);
    expect(pool.cachedPrefixBlocks(hashes)).toBe(0);
  });

  it('grows an allocation block by block and reports when it cannot', () => {
    const pool = new BlockPool(2, 4, false);
    const ids = pool.allocate([], 4, 0)!.blockIds;
    expect(pool.grow(ids, 8)).toBe(true);
    expect(pool.grow(ids, 9)).toBe(false);
    expect(ids).toHaveLength(2);
  });
});
