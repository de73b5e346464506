import { describe, expect, it } from 'vitest';
import { createStore, type StoreKey } from '../../../src/store/create-store.js';
import { LfuPolicy } from '../../../src/store/lfu-policy.js';
import { LruPolicy } from '../../../src/store/lru-policy.js';
import { S3FifoPolicy } from '../../../src/store/s3-fifo-policy.js';
import { FrequencySketch } from '../../../src/store/frequency-sketch.js';
import { WTinyLfuPolicy } from '../../../src/store/w-tinylfu-policy.js';
import type { EvictionPolicyName } from '../../../src/store/slot-policy.js';

describe('LruPolicy', () => {
  it('evicts the least recently inserted or hit slot', () => {
    const lru = new LruPolicy(8);
    for (let s = 0; s < 4; s++) lru.onInsert(s);
    lru.onHit(0);
    expect(lru.slotsByRecency()).toEqual([1, 2, 3, 0]);
    expect(lru.evict()).toBe(1);
    lru.onRemove(3);
    expect(lru.slotsByRecency()).toEqual([2, 0]);
    expect(lru.evict()).toBe(2);
    expect(lru.evict()).toBe(0);
    expect(lru.evict()).toBe(-1);
  });
});

describe('LfuPolicy', () => {
  it('evicts the least frequently used slot, ties by recency', () => {
    const lfu = new LfuPolicy(8);
    for (let s = 0; s < 4; s++) lfu.onInsert(s);
    lfu.onHit(0);
    lfu.onHit(0);
    lfu.onHit(2);
    expect(lfu.frequencyOf(0)).toBe(3);
    expect(lfu.frequencyOf(2)).toBe(2);
    // 1 and 3 both have frequency 1; 1 got there first.
    expect(lfu.evict()).toBe(1);
    expect(lfu.evict()).toBe(3);
    expect(lfu.evict()).toBe(2);
    lfu.onInsert(5);
    expect(lfu.evict()).toBe(5);
    expect(lfu.evict()).toBe(0);
    expect(lfu.evict()).toBe(-1);
  });

  it('grows and keeps working after removals', () => {
    const lfu = new LfuPolicy(2);
    lfu.grow(10);
    for (let s = 0; s < 10; s++) lfu.onInsert(s);
    for (let s = 0; s < 10; s++) for (let i = 0; i < s; i++) lfu.onHit(s);
    lfu.onRemove(0);
    lfu.onRemove(5);
    const order: number[] = [];
    for (let v = lfu.evict(); v !== -1; v = lfu.evict()) order.push(v);
    expect(order).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
  });
});

describe('S3FifoPolicy', () => {
  it('sends one-hit wonders out through the small queue and into the ghost', () => {
    // Capacity 4: the small queue holds 1 (25%).
    const p = new S3FifoPolicy(4, 16, 4);
    for (let s = 0; s < 4; s++) p.onInsert(s, 1000 + s, 1);
    for (let s = 0; s < 3; s++) p.onHit(s);
    // Read entries in S move to M; the first unread one (3) leaves.
    expect(p.queueOf(0)).toBe('small');
    p.onInsert(4, 1004, 1);
    expect(p.evict()).toBe(3);
    expect(p.queueOf(0)).toBe('main');
    expect(p.queueOf(4)).toBe('small');
    // The new key, never read, is the next to leave through S.
    p.onInsert(5, 1005, 1);
    expect(p.evict()).toBe(4);
  });

  it('inserts a key found in the ghost into the main queue', () => {
    const p = new S3FifoPolicy(10, 16, 10);
    p.onInsert(0, 42, 1);
    expect(p.queueOf(0)).toBe('small');
    expect(p.evict()).toBe(0);
    p.onInsert(1, 42, 1);
    expect(p.queueOf(1)).toBe('main');
    // The ghost hit is consumed.
    p.onInsert(2, 42, 1);
    expect(p.queueOf(2)).toBe('small');
  });

  it('gives read entries of M a second chance with their counter minus one', () => {
    const p = new S3FifoPolicy(10, 16, 10);
    // Ghost hits put 0..2 straight into M.
    for (let s = 0; s < 3; s++) p.onInsert(s, 100 + s, 1);
    for (let s = 0; s < 3; s++) expect(p.evict()).toBe(s);
    for (let s = 0; s < 3; s++) {
      p.onInsert(s, 100 + s, 1);
      expect(p.queueOf(s)).toBe('main');
    }
    p.onHit(0);
    // M evicts from its tail (0 first), but 0 was read: 1 goes instead.
    expect(p.evict()).toBe(1);
    expect(p.evict()).toBe(2);
    expect(p.evict()).toBe(0);
  });
});

describe('FrequencySketch', () => {
  it('estimates counts up to 15 and halves them after its sample size', () => {
    const sketch = new FrequencySketch(64);
    for (let i = 0; i < 5; i++) sketch.increment(7);
    expect(sketch.frequency(7)).toBe(5);
    expect(sketch.frequency(8)).toBe(0);
    for (let i = 0; i < 30; i++) sketch.increment(9);
    expect(sketch.frequency(9)).toBe(15);
    for (let i = 0; i < sketch.sampleSize; i++) sketch.increment(1_000_000 + i);
    expect(sketch.frequency(9)).toBeLessThanOrEqual(8);
  });
});

describe('WTinyLfuPolicy', () => {
  it('grows its sketch with the slots when the capacity is in bytes (no entry count known)', () => {
    const p = new WTinyLfuPolicy(1e9, 16);
    p.grow(200_000);
    for (let i = 0; i < 5; i++) p.sketch_bump(42);
    // 20,000 other increments: a sketch still sized for 16 entries (sample 160) would have halved
    // its counters many times over and forgotten key 42.
    for (let i = 0; i < 20_000; i++) p.sketch_bump(1_000_000 + i * 7919);
    expect(p.estimate(42)).toBeGreaterThanOrEqual(5);
  });

  it('rejects a cold candidate against a hot victim, and admits a hotter one', () => {
    // Capacity 100: window 1, protected 79.
    const p = new WTinyLfuPolicy(100, 128, 100, false);
    for (let s = 0; s < 100; s++) p.onInsert(s, 5000 + s, 1);
    // Make everything in probation hot.
    for (let s = 0; s < 100; s++) for (let i = 0; i < 3; i++) p.sketch_bump(5000 + s);
    p.onInsert(100, 9999, 1);
    // The candidate (pushed out of the window) is the previous newest, 99, which is cold next to the victim.
    const loser = p.evict();
    expect(p.segmentOf(loser)).toBeUndefined();
    expect([99, 100]).toContain(loser);
    const hot = new WTinyLfuPolicy(100, 128, 100, false);
    for (let s = 0; s < 100; s++) hot.onInsert(s, 5000 + s, 1);
    for (let i = 0; i < 6; i++) hot.sketch_bump(5099);
    hot.onInsert(100, 9999, 1);
    // 99 is now hotter than probation's LRU (0): admitted, 0 evicted.
    expect(hot.evict()).toBe(0);
    expect(hot.segmentOf(99)).toBe('probation');
  });

  it('promotes a probation hit to protected', () => {
    const p = new WTinyLfuPolicy(100, 128, 100, false);
    for (let s = 0; s < 10; s++) p.onInsert(s, s, 1);
    expect(p.segmentOf(9)).toBe('window');
    expect(p.segmentOf(0)).toBe('probation');
    p.onHit(0);
    expect(p.segmentOf(0)).toBe('protected');
  });
});

/** Replays `keys` as get-then-set-on-miss. */
function replay(policy: EvictionPolicyName, maxEntries: number, keys: StoreKey[]) {
  const store = createStore<number>({ policy, maxEntries });
  for (const key of keys) if (store.get(key) === undefined) store.set(key, 1);
  return store;
}

describe('scan resistance', () => {
  // A hot set of 50 keys read round-robin, then one pass over 1,000 cold keys, then the hot set again.
  const hot = Array.from({ length: 50 }, (_, i) => `hot${i}`);
  const warm: StoreKey[] = [];
  for (let r = 0; r < 20; r++) warm.push(...hot);
  const scan = Array.from({ length: 1000 }, (_, i) => `cold${i}`);

  function hotSurvivors(policy: EvictionPolicyName): number {
    const store = replay(policy, 100, [...warm, ...scan]);
    return hot.filter((k) => store.has(k)).length;
  }

  it('keeps the hot set through a scan under s3-fifo and w-tinylfu', () => {
    expect(hotSurvivors('s3-fifo')).toBe(50);
    expect(hotSurvivors('w-tinylfu')).toBeGreaterThanOrEqual(48);
  });

  it('loses the hot set to the scan under lru', () => {
    expect(hotSurvivors('lru')).toBe(0);
  });
});
