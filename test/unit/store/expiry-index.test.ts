import { describe, expect, it } from 'vitest';
import { ExpiryIndex } from '../../../src/store/expiry-index.js';
import { SLOT_PAGE_SLOTS } from '../../../src/store/slot-columns.js';
import { mulberry32 as rng } from '../../support/seeded-random.js';


/** An index over a plain map of key -> expiresAt, kept in sync the way LocalStore does it. */
function setup() {
  const expiries = new Map<string, number>();
  const index = new ExpiryIndex((key) => expiries.get(key));
  return {
    index,
    expiries,
    set(key: string, expiresAt: number) {
      const old = expiries.get(key);
      expiries.set(key, expiresAt);
      if (old !== expiresAt) {
        if (old !== undefined) index.discard();
        index.add(key, expiresAt);
      }
    },
    remove(key: string) {
      if (expiries.delete(key)) index.discard();
    },
    /** Pops what is due and forgets it, as the store's sweep does. */
    pop(now: number, limit = Infinity): string[] {
      const keys = index.popExpired(now, limit);
      for (const key of keys) expiries.delete(key);
      return keys;
    },
  };
}

describe('ExpiryIndex', () => {
  it('is empty at first', () => {
    const { index } = setup();
    expect(index.size).toBe(0);
    expect(index.nextExpiry()).toBe(Infinity);
    expect(index.popExpired(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  it('pops due keys in expiry order, expiresAt == now included', () => {
    const s = setup();
    s.set('c', 300);
    s.set('a', 100);
    s.set('d', 400);
    s.set('b', 200);
    expect(s.index.nextExpiry()).toBe(100);
    expect(s.pop(99)).toEqual([]);
    expect(s.pop(200)).toEqual(['a', 'b']);
    expect(s.index.nextExpiry()).toBe(300);
    expect(s.pop(1000)).toEqual(['c', 'd']);
    expect(s.index.size).toBe(0);
  });

  it('examines at most limit items per call', () => {
    const s = setup();
    for (let i = 0; i < 10; i++) s.set(`k${i}`, 100 + i);
    expect(s.pop(1000, 3)).toEqual(['k0', 'k1', 'k2']);
    expect(s.pop(1000, 3)).toEqual(['k3', 'k4', 'k5']);
    expect(s.index.size).toBe(4);
  });

  it('counts stale items against the limit so one call stays bounded', () => {
    const s = setup();
    for (let i = 0; i < 3; i++) s.set(`old${i}`, 100 + i);
    for (let i = 0; i < 10; i++) s.set(`live${i}`, 200 + i);
    for (let i = 0; i < 3; i++) s.remove(`old${i}`);
    expect(s.index.staleCount).toBe(3);
    // The three stale items in front use up the whole limit.
    expect(s.pop(1000, 3)).toEqual([]);
    expect(s.index.staleCount).toBe(0);
    expect(s.pop(1000, 3)).toEqual(['live0', 'live1', 'live2']);
  });

  it('skips an item whose entry was removed or got a new expiry time', () => {
    const s = setup();
    // Enough live items that the stale ones below stay under the compaction threshold.
    for (let i = 0; i < 10; i++) s.set(`filler${i}`, 10_000 + i);
    s.set('gone', 100);
    s.set('moved', 150);
    s.set('kept', 200);
    s.remove('gone');
    s.set('moved', 5_000);
    expect(s.index.staleCount).toBe(2);
    expect(s.index.size).toBe(14);
    expect(s.pop(1000)).toEqual(['kept']);
    expect(s.index.staleCount).toBe(0);
    expect(s.pop(5_000)).toEqual(['moved']);
  });

  it('compacts once stale items outnumber live ones, a few items per operation', () => {
    const s = setup();
    for (let i = 0; i < 100; i++) s.set(`k${i}`, 1000 + i);
    for (let i = 0; i < 50; i++) s.remove(`k${i}`);
    expect(s.index.size).toBe(100);
    expect(s.index.staleCount).toBe(50);
    expect(s.index.compacting).toBe(false);
    s.remove('k50');
    expect(s.index.compacting).toBe(true);
    // Each add/discard moves a few more items; the due keys come out right meanwhile.
    s.set('extra', 5000);
    expect(s.index.nextExpiry()).toBeLessThanOrEqual(1051);
    for (let i = 0; i < 30 && s.index.compacting; i++) {
      s.set(`t${i}`, 9000);
      s.remove(`t${i}`);
    }
    expect(s.index.compacting).toBe(false);
    expect(s.pop(Infinity)).toEqual([...Array.from({ length: 49 }, (_, i) => `k${i + 51}`), 'extra']);
  });

  it('finishes a compaction from popExpired even when nothing is due', () => {
    const s = setup();
    for (let i = 0; i < 1000; i++) s.set(`k${i}`, 1000 + i);
    for (let i = 0; i < 501; i++) s.remove(`k${i}`);
    expect(s.index.compacting).toBe(true);
    expect(s.index.popExpired(0, 10_000)).toEqual([]);
    expect(s.index.compacting).toBe(false);
    expect(s.index.size).toBe(499);
    expect(s.index.staleCount).toBe(0);
  });

  it('pops in order from both heaps while a compaction runs', () => {
    const s = setup();
    for (let i = 0; i < 200; i++) s.set(`k${i}`, 1000 + i * 10);
    for (let i = 0; i < 200; i += 2) s.remove(`k${i}`);
    s.remove('k1'); // crosses the threshold
    expect(s.index.compacting).toBe(true);
    // New items land in the fresh heap, interleaved in time with the draining one.
    for (let i = 0; i < 20; i++) s.set(`n${i}`, 1005 + i * 100);
    const popped = s.index.popExpired(Infinity, 1); // migrates 1 item, examines 1
    const rest = s.pop(Infinity);
    const all = [...popped, ...rest];
    const times = all.map((key) => (key.startsWith('k') ? 1000 + Number(key.slice(1)) * 10 : 1005 + Number(key.slice(1)) * 100));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(all).size).toBe(99 + 20);
  });

  it('keeps the heap within a small multiple of the live items under repeated re-scheduling', () => {
    const s = setup();
    for (let i = 0; i < 1000; i++) s.set(`k${i}`, 1_000_000 + i);
    let largest = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++) {
        s.set(`k${i}`, 2_000_000 + round * 1000 + i);
        largest = Math.max(largest, s.index.size);
      }
    }
    // Compaction starts at 2x live; items added while it drains push the peak a little higher.
    expect(largest).toBeLessThanOrEqual(2.5 * 1000);
    expect(s.pop(Infinity)).toHaveLength(1000);
  });

  it('returns a key once when it was removed and re-added with the same time, and counts the other item stale', () => {
    const s = setup();
    for (let i = 0; i < 10; i++) s.set(`filler${i}`, 10_000 + i);
    s.set('k', 100);
    s.remove('k');
    s.set('k', 100);
    expect(s.index.staleCount).toBe(1);
    expect(s.index.popExpired(100, 10)).toEqual(['k']);
    expect(s.index.staleCount).toBe(0);
    expect(s.index.size).toBe(10);
  });

  it('drops everything on clear', () => {
    const s = setup();
    s.set('a', 1);
    s.index.clear();
    expect(s.index.size).toBe(0);
    expect(s.index.nextExpiry()).toBe(Infinity);
  });

  it('agrees with a sorted reference over a random sequence', () => {
    const random = rng(11);
    const s = setup();
    let now = 0;
    for (let step = 0; step < 5000; step++) {
      const key = `k${Math.floor(random() * 300)}`;
      const op = random();
      if (op < 0.5) s.set(key, now + 1 + Math.floor(random() * 500));
      else if (op < 0.7) s.remove(key);
      else {
        now += Math.floor(random() * 50);
        const expected = [...s.expiries].filter(([, at]) => at <= now).sort((x, y) => x[1] - y[1]);
        // Equal times come out in any order: compare sets.
        const popped = s.pop(now);
        expect(new Set(popped)).toEqual(new Set(expected.map(([k]) => k)));
        expect(popped).toHaveLength(expected.length);
        expect(s.index.nextExpiry()).toBeGreaterThan(now);
      }
      // The stale count is exact: every item beyond one per scheduled key is stale, except a
      // duplicate of a re-added key, which counts as stale too.
      expect(s.index.size - s.index.staleCount).toBe(s.expiries.size);
      expect(s.index.size).toBeLessThanOrEqual(2.5 * s.expiries.size + 8);
    }
  });

  it('keeps heap order past a page of its paged columns, through a compaction, and empties', () => {
    const { index, expiries, set, remove, pop } = setup();
    const random = rng(7);
    const n = SLOT_PAGE_SLOTS + 5_000;
    for (let i = 0; i < n; i++) set(`k${i}`, 1_000 + Math.floor(random() * 100_000));
    // Stale items past half the heap start an incremental compaction.
    let compacted = false;
    for (let i = 0; i < n; i++) {
      if (i % 4 !== 0) remove(`k${i}`);
      compacted ||= index.compacting;
    }
    expect(compacted).toBe(true);
    const held = new Map(expiries);
    const out = pop(Infinity);
    const times = out.map((key) => held.get(key)!);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(out).toHaveLength(n / 4);
    expect(new Set(out).size).toBe(n / 4);
    expect(index.size).toBe(0);
    expect(index.nextExpiry()).toBe(Infinity);
  });
});
