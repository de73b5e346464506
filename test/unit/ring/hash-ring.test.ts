import { describe, it, expect } from 'vitest';
import { defaultPeerConfig } from '../../../src/config.js';
import { CacheError } from '../../../src/errors.js';
import { HashRing } from '../../../src/ring/hash-ring.js';
import { hashKey } from '../../../src/ring/key-hash.js';
import { mulberry32 } from '../../support/seeded-random.js';


const ALPHABET = 'useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict';

/** A nanoid-like id of `length` characters drawn from nanoid's alphabet. */
function randomId(next: () => number, length = 10): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return id;
}

/** Hashes of `count` pseudo-random keys (`key:` + 12 random characters). */
function randomKeyHashes(seed: number, count: number): Uint32Array {
  const next = mulberry32(seed);
  const hashes = new Uint32Array(count);
  for (let n = 0; n < count; n++) hashes[n] = hashKey(`key:${randomId(next, 12)}`);
  return hashes;
}

/** The primary of every hash in `hashes`, as an index into `ring.peers`. */
function primaries(ring: HashRing, hashes: Uint32Array): string[] {
  const out = new Array<string>(hashes.length);
  for (let n = 0; n < hashes.length; n++) out[n] = ring.primaryForHash(hashes[n]!)!;
  return out;
}

/**
 * Brute-force reference: every virtual node sorted by (position, id), then a linear walk
 * clockwise from the first position >= hash, collecting distinct ids.
 */
function referencePreferenceList(peerIds: readonly string[], vnodes: number, replicas: number, hash: number): string[] {
  const ids = [...new Set(peerIds)];
  const nodes: Array<{ position: number; id: string }> = [];
  for (const id of ids) for (let i = 0; i < vnodes; i++) nodes.push({ position: hashKey(`${id}#${i}`), id });
  nodes.sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (nodes.length === 0) return [];
  let start = nodes.findIndex((node) => node.position >= hash);
  if (start === -1) start = 0;
  const list: string[] = [];
  for (let step = 0; list.length < Math.min(replicas, ids.length); step++) {
    const { id } = nodes[(start + step) % nodes.length]!;
    if (!list.includes(id)) list.push(id);
  }
  return list;
}

describe('HashRing placement', () => {
  it('matches a brute-force reference for random keys and edge hashes', () => {
    const next = mulberry32(99);
    const configs: Array<[peers: number, vnodes: number, replicas: number]> = [
      [1, 1, 1],
      [2, 1, 3],
      [3, 4, 2],
      [5, 16, 3],
      [7, 8, 7],
      [4, 32, 1],
    ];
    for (const [peerCount, vnodes, replicas] of configs) {
      const ids = Array.from({ length: peerCount }, () => randomId(next));
      const ring = new HashRing(ids, { vnodes, replicas });
      const positions = ids.flatMap((id) => Array.from({ length: vnodes }, (_, i) => hashKey(`${id}#${i}`)));
      const hashes = [0, 1, 0xffffffff, 0xfffffffe];
      for (const position of positions) hashes.push(position, (position + 1) >>> 0, (position - 1) >>> 0);
      for (let n = 0; n < 500; n++) hashes.push(Math.floor(next() * 2 ** 32));
      for (const hash of hashes) {
        expect(ring.preferenceListForHash(hash), `hash ${hash}`).toEqual(referencePreferenceList(ids, vnodes, replicas, hash));
      }
    }
  });

  it('gives preference lists of min(replicas, size) distinct peers, primary first', () => {
    const next = mulberry32(5);
    for (const [peerCount, replicas] of [
      [5, 3],
      [3, 5],
      [4, 4],
      [10, 2],
    ] as const) {
      const ids = Array.from({ length: peerCount }, () => randomId(next));
      const ring = new HashRing(ids, { vnodes: 64, replicas });
      for (let n = 0; n < 500; n++) {
        const key = `k${n}`;
        const list = ring.preferenceList(key);
        expect(list).toHaveLength(Math.min(replicas, peerCount));
        expect(new Set(list).size).toBe(list.length);
        expect(list.every((id) => ring.has(id))).toBe(true);
        expect(ring.primary(key)).toBe(list[0]);
        expect(ring.preferenceListForHash(hashKey(key))).toEqual(list);
      }
    }
  });

  it('wraps around: a hash above the last position goes to the first virtual node', () => {
    const ids = ['a', 'b', 'c'];
    const ring = new HashRing(ids, { vnodes: 1, replicas: 3 });
    const byPosition = ids.map((id) => ({ id, position: hashKey(`${id}#0`) })).sort((x, y) => x.position - y.position);
    const [first, second, third] = byPosition.map((node) => node.id);
    const last = byPosition[2]!.position;
    expect(ring.primaryForHash(last)).toBe(third);
    expect(ring.preferenceListForHash(last)).toEqual([third, first, second]);
    expect(ring.preferenceListForHash(last + 1)).toEqual([first, second, third]);
    expect(ring.preferenceListForHash(0xffffffff)).toEqual([first, second, third]);
    expect(ring.preferenceListForHash(0)).toEqual([first, second, third]);
    expect(ring.preferenceListForHash(byPosition[0]!.position + 1)).toEqual([second, third, first]);
  });

  it('breaks position ties by peer id (code-unit order)', () => {
    // Found by search: both ids put virtual node 0 at the same position.
    const tie = hashKey('peer-7840#0');
    expect(hashKey('peer-45876#0')).toBe(tie);
    for (const order of [
      ['peer-7840', 'peer-45876'],
      ['peer-45876', 'peer-7840'],
    ]) {
      const ring = new HashRing(order, { vnodes: 1, replicas: 2 });
      for (const hash of [tie, tie - 1, tie + 1, 0, 0xffffffff]) {
        expect(ring.preferenceListForHash(hash)).toEqual(['peer-45876', 'peer-7840']);
      }
      expect(ring.ownership()).toEqual(new Map([['peer-45876', 1], ['peer-7840', 0]]));
    }
  });

  it('is a function of the set of ids: order and duplicates do not matter', () => {
    const next = mulberry32(11);
    const ids = Array.from({ length: 6 }, () => randomId(next));
    const shuffled = [...ids].reverse();
    [shuffled[0], shuffled[3]] = [shuffled[3]!, shuffled[0]!];
    const a = new HashRing(ids, { vnodes: 32, replicas: 3 });
    const b = new HashRing([...shuffled, ids[2]!, ids[4]!, ids[2]!], { vnodes: 32, replicas: 3 });
    expect(b.peers).toEqual([...ids].sort());
    expect(b.size).toBe(6);
    expect(b.checksum).toBe(a.checksum);
    expect(b.ownership()).toEqual(a.ownership());
    const listsOf = (ring: HashRing): string[][] => Array.from({ length: 2000 }, (_, n) => ring.preferenceList(`key-${n}`));
    expect(listsOf(b)).toEqual(listsOf(a));
  });

  it('exposes sorted, frozen peers and its options', () => {
    const ring = new HashRing(['b', 'a', 'c', 'a'], { vnodes: 8, replicas: 2 });
    expect(ring.peers).toEqual(['a', 'b', 'c']);
    expect(Object.isFrozen(ring.peers)).toBe(true);
    expect(ring.size).toBe(3);
    expect(ring.vnodes).toBe(8);
    expect(ring.replicas).toBe(2);
    expect(ring.has('a')).toBe(true);
    expect(ring.has('d')).toBe(false);
  });

  it('handles an empty ring', () => {
    const ring = new HashRing([], { vnodes: 256, replicas: 2 });
    expect(ring.size).toBe(0);
    expect(ring.peers).toEqual([]);
    expect(ring.has('a')).toBe(false);
    expect(ring.preferenceList('key')).toEqual([]);
    expect(ring.preferenceListForHash(0)).toEqual([]);
    expect(ring.primary('key')).toBeUndefined();
    expect(ring.primaryForHash(123)).toBeUndefined();
    expect(ring.ownership()).toEqual(new Map());
    expect(ring.checksum).toMatch(/^[0-9a-f]{8}$/);
  });

  it('sends every key to the only peer of a single-peer ring', () => {
    const ring = new HashRing(['solo'], { vnodes: 16, replicas: 3 });
    for (let n = 0; n < 1000; n++) {
      expect(ring.preferenceList(`key-${n}`)).toEqual(['solo']);
      expect(ring.primary(`key-${n}`)).toBe('solo');
    }
    expect(ring.preferenceListForHash(0xffffffff)).toEqual(['solo']);
    expect(ring.ownership()).toEqual(new Map([['solo', 1]]));
  });

  it.each([
    ['vnodes 0', { vnodes: 0, replicas: 2 }],
    ['vnodes 1.5', { vnodes: 1.5, replicas: 2 }],
    ['vnodes NaN', { vnodes: Number.NaN, replicas: 2 }],
    ['replicas 0', { vnodes: 8, replicas: 0 }],
    ['replicas -1', { vnodes: 8, replicas: -1 }],
  ])('rejects %s with BAD_CONFIG', (_name, options) => {
    expect(() => new HashRing(['a'], options)).toThrow(CacheError);
    try {
      new HashRing(['a'], options);
    } catch (error) {
      expect((error as CacheError).code).toBe('BAD_CONFIG');
    }
  });
});

describe('HashRing checksum', () => {
  it('is 8 hex chars, equal for equal sets and different otherwise', () => {
    const base = new HashRing(['p1', 'p2', 'p3'], { vnodes: 256, replicas: 2 });
    expect(base.checksum).toMatch(/^[0-9a-f]{8}$/);
    expect(new HashRing(['p3', 'p1', 'p2', 'p1'], { vnodes: 256, replicas: 2 }).checksum).toBe(base.checksum);
    const others = [
      new HashRing(['p1', 'p2'], { vnodes: 256, replicas: 2 }),
      new HashRing(['p1', 'p2', 'p3', 'p4'], { vnodes: 256, replicas: 2 }),
      new HashRing(['p1', 'p2', 'p4'], { vnodes: 256, replicas: 2 }),
      new HashRing(['p1', 'p2', 'p3'], { vnodes: 128, replicas: 2 }),
      new HashRing(['p1', 'p2', 'p3'], { vnodes: 256, replicas: 3 }),
      // An id containing the separator of a naive join must not alias two ids.
      new HashRing(['p1', 'p2,p3'], { vnodes: 256, replicas: 2 }),
      new HashRing([], { vnodes: 256, replicas: 2 }),
    ];
    const checksums = new Set([base.checksum, ...others.map((ring) => ring.checksum)]);
    expect(checksums.size).toBe(others.length + 1);
  });
});

describe(`HashRing balance and movement (acceptance, default vnodes ${defaultPeerConfig().vnodes})`, () => {
  const KEYS = 100_000;
  const hashes = randomKeyHashes(424242, KEYS);
  const options = { vnodes: defaultPeerConfig().vnodes, replicas: 2 };

  const idSets: Array<[string, string[], string]> = [['fixed p1 p2 p3', ['p1', 'p2', 'p3'], 'p4']];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const next = mulberry32(seed);
    idSets.push([`seeded ids (seed ${seed})`, [randomId(next), randomId(next), randomId(next)], randomId(next)]);
  }

  describe.each(idSets)('%s', (_name, ids, fourth) => {
    const ring = new HashRing(ids, options);
    const before = primaries(ring, hashes);

    it('gives each of 3 peers a share of keys within 15% of 1/3, matching its ownership', () => {
      const counts = new Map(ids.map((id) => [id, 0]));
      for (const id of before) counts.set(id, counts.get(id)! + 1);
      const ownership = ring.ownership();
      let total = 0;
      for (const fraction of ownership.values()) total += fraction;
      expect(total).toBe(1);
      for (const id of ids) {
        const share = counts.get(id)! / KEYS;
        expect(Math.abs(share - 1 / 3), `${id} share ${share}`).toBeLessThanOrEqual(0.15 / 3);
        // Sampling error of 100k keys is ~0.0015 (one standard deviation).
        expect(Math.abs(share - ownership.get(id)!), `${id} share vs ownership`).toBeLessThan(0.01);
      }
    });

    it('moves at most 1.2 x 1/4 of the keys when a 4th peer joins, all of them to that peer', () => {
      const after = primaries(new HashRing([...ids, fourth], options), hashes);
      let moved = 0;
      for (let n = 0; n < KEYS; n++) {
        if (after[n] === before[n]) continue;
        moved++;
        if (after[n] !== fourth) expect.fail(`key ${n} moved from ${before[n]} to ${after[n]}, not to ${fourth}`);
      }
      expect(moved).toBeGreaterThan(0);
      expect(moved / KEYS).toBeLessThanOrEqual(1.2 / 4);
    });

    it('moves only the keys a departing peer owned', () => {
      for (const leaving of ids) {
        const after = primaries(new HashRing(ids.filter((id) => id !== leaving), options), hashes);
        for (let n = 0; n < KEYS; n++) {
          if (after[n] !== before[n] && before[n] !== leaving) {
            expect.fail(`key ${n} moved from ${before[n]} to ${after[n]} though ${leaving} left`);
          }
          if (after[n] === leaving) expect.fail(`key ${n} still on ${leaving}`);
        }
      }
    });
  });

  it('keeps ownership summing to 1 for larger rings', () => {
    const next = mulberry32(77);
    for (const peerCount of [2, 5, 17, 50]) {
      const ring = new HashRing(Array.from({ length: peerCount }, () => randomId(next)), options);
      let total = 0;
      for (const fraction of ring.ownership().values()) {
        expect(fraction).toBeGreaterThan(0);
        total += fraction;
      }
      expect(total).toBeCloseTo(1, 12);
      expect(ring.ownership().size).toBe(peerCount);
    }
  });
});
