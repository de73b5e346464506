import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheError } from '../../../src/errors.js';
import type { Version } from '../../../src/hlc.js';
import { DEFAULT_EVICTION_POLICY, EVICTION_POLICIES, type EvictionPolicyName } from '../../../src/store/create-store.js';
import { entryBytes, type StoredEntry } from '../../../src/store/entry.js';
import { MIN_CELL_BYTES } from '../../../src/store/value-slab.js';
import { LocalStore } from '../../../src/store/local-store.js';
import { expectConsistent } from '../../support/local-store-invariants.js';

const T0 = 1_700_000_000_000;
const TOMBSTONE_TTL = 60_000;
const SIZE = entryBytes('k0', '"v"');

function ver(wallMs: number, logical = 0, peer = 'p1'): Version {
  return [wallMs, logical, peer];
}

function value(json: string, version: Version, expiresAt = 0): StoredEntry {
  return { value: json, version, expiresAt };
}

function makeStore(policy: EvictionPolicyName, maxBytes: number) {
  const clock = { t: T0 };
  const store = new LocalStore({ maxBytes, tombstoneTtlMs: TOMBSTONE_TTL, now: () => clock.t, policy });
  return { store, clock };
}


function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheError);
    return (error as CacheError).code;
  }
  return undefined;
}

describe('LocalStore policy option', () => {
  it(`defaults to ${DEFAULT_EVICTION_POLICY} and rejects an unknown policy with BAD_CONFIG`, () => {
    expect(new LocalStore({ maxBytes: 1024, tombstoneTtlMs: 1 }).policy).toBe(DEFAULT_EVICTION_POLICY);
    expect(new LocalStore({ maxBytes: 1024, tombstoneTtlMs: 1, policy: 'lfu' }).policy).toBe('lfu');
    expect(() => new LocalStore({ maxBytes: 1024, tombstoneTtlMs: 1, policy: 'fifo' as EvictionPolicyName })).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG' }),
    );
  });
});

type Op =
  | { kind: 'apply'; key: number; len: number; wall: number; ttl: number; tombstone: boolean }
  | { kind: 'get'; key: number }
  | { kind: 'peek'; key: number }
  | { kind: 'delete'; key: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'sweep'; max: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('apply' as const),
      key: fc.integer({ min: 0, max: 40 }),
      len: fc.integer({ min: 0, max: 400 }),
      // Versions drawn from a small range so last-writer-wins rejections happen too.
      wall: fc.integer({ min: 1, max: 50 }),
      ttl: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 100 })),
      tombstone: fc.boolean(),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 40 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('peek' as const), key: fc.integer({ min: 0, max: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('sweep' as const), max: fc.integer({ min: 1, max: 10 }) }), weight: 1 },
);

describe.each(EVICTION_POLICIES)('LocalStore with policy %s', (policy) => {
  it('never exceeds maxBytes and keeps its counters and expiry index exact over a random op sequence', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (ops, slots) => {
        const { store, clock } = makeStore(policy, slots * SIZE * 2);
        for (const o of ops) {
          switch (o.kind) {
            case 'apply': {
              const key = `k${o.key}`;
              const expiresAt = o.ttl === 0 ? 0 : clock.t + o.ttl;
              const entry: StoredEntry = o.tombstone ? { value: null, version: ver(o.wall), expiresAt } : value('"' + 'x'.repeat(o.len) + '"', ver(o.wall), expiresAt);
              const code = codeOf(() => {
                const stored = store.apply(key, entry);
                // A stored entry is readable at once; a dropped one is not half there.
                if (stored) expect(store.peek(key)?.version).toEqual(entry.version);
              });
              if (code !== undefined) {
                const bytes = entryBytes(key, entry.value);
                if (code === 'TOO_LARGE') expect(bytes).toBeGreaterThan(store.maxBytes);
                else {
                  expect(policy).toBe('none');
                  expect(code).toBe('OUT_OF_MEMORY');
                }
              }
              break;
            }
            case 'get': {
              const entry = store.get(`k${o.key}`);
              if (entry !== undefined) expect(entry.expiresAt === 0 || entry.expiresAt > clock.t).toBe(true);
              break;
            }
            case 'peek':
              store.peek(`k${o.key}`);
              break;
            case 'delete':
              store.delete(`k${o.key}`);
              break;
            case 'tick':
              clock.t += o.ms;
              break;
            case 'sweep':
              store.sweepExpired(5, o.max);
              break;
          }
          expect(store.bytes).toBeLessThanOrEqual(store.maxBytes);
        }
        expectConsistent(store);
        if (policy === 'none') expect(store.stats().evictions).toBe(0);
      }),
      { numRuns: Number(process.env.RINGCACHE_PROPERTY_RUNS ?? 150) },
    );
  });

  it('expires a TTL entry: never read after its time, reclaimed by the sweep', () => {
    const { store, clock } = makeStore(policy, 100 * SIZE);
    store.apply('ttl', value('"v"', ver(1), T0 + 100));
    store.apply('read', value('"v"', ver(1), T0 + 100));
    store.apply('forever', value('"v"', ver(1)));
    clock.t = T0 + 99;
    expect(store.get('ttl')?.value).toBe('"v"');
    clock.t = T0 + 100;
    expect(store.get('read')).toBeUndefined();
    expect(store.sweepExpired(10)).toBe(1);
    expect(store.keys()).toEqual(['forever']);
    expect(store.stats()).toMatchObject({ expirations: 2, evictions: 0, entries: 1 });
    expectConsistent(store);
  });

  it('expires a tombstone after tombstoneTtlMs', () => {
    const { store, clock } = makeStore(policy, 100 * SIZE);
    store.apply('k', { value: null, version: ver(1), expiresAt: 0 });
    clock.t = T0 + TOMBSTONE_TTL;
    expect(store.sweepExpired(10)).toBe(1);
    expect(store.size).toBe(0);
    expectConsistent(store);
  });
});

describe("LocalStore with policy 'none'", () => {
  it('throws OUT_OF_MEMORY for a write that does not fit and leaves the store unchanged', () => {
    const { store } = makeStore('none', 3 * SIZE);
    for (let i = 0; i < 3; i++) expect(store.apply(`k${i}`, value('"v"', ver(1)))).toBe(true);
    expect(store.bytes).toBe(store.maxBytes);
    const before = store.stats();
    expect(codeOf(() => store.apply('k3', value('"v"', ver(2))))).toBe('OUT_OF_MEMORY');
    // A bigger value for a held key (one that takes a larger slab cell) does not fit either; one of the same size does.
    expect(codeOf(() => store.apply('k0', value(JSON.stringify('v'.repeat(MIN_CELL_BYTES)), ver(2))))).toBe('OUT_OF_MEMORY');
    expect(store.stats()).toEqual(before);
    expect(store.keys().sort()).toEqual(['k0', 'k1', 'k2']);
    expect(store.get('k0')?.version).toEqual(ver(1));
    expect(store.apply('k0', value('"w"', ver(3)))).toBe(true);
    expect(store.get('k0')?.value).toBe('"w"');
    // A write that loses by last-writer-wins is not refused: it just does not apply.
    expect(store.apply('k1', value('"vvvv"', ver(0)))).toBe(false);
    // Room made by a delete is usable.
    store.delete('k2');
    expect(store.apply('k3', value('"v"', ver(2)))).toBe(true);
    expect(store.stats().evictions).toBe(0);
    expectConsistent(store);
  });

  it('reclaims expired entries to make room before refusing a write', () => {
    const { store, clock } = makeStore('none', 3 * SIZE);
    store.apply('k0', value('"v"', ver(1), T0 + 10));
    store.apply('k1', value('"v"', ver(1)));
    store.apply('k2', value('"v"', ver(1)));
    clock.t = T0 + 10;
    expect(store.apply('k3', value('"v"', ver(1)))).toBe(true);
    expect(store.keys().sort()).toEqual(['k1', 'k2', 'k3']);
    expect(store.stats()).toMatchObject({ expirations: 1, evictions: 0 });
    expectConsistent(store);
  });
});

describe('LocalStore admission', () => {
  it("drops a write the policy evicts at once, returns false and stays consistent (s3-fifo's small queue)", () => {
    // S3-FIFO: k0..k2 are read, so making room moves them to the main queue and the unread
    // newcomer, alone in the small queue, is what leaves.
    const { store } = makeStore('s3-fifo', 3 * SIZE);
    for (let i = 0; i < 3; i++) store.apply(`k${i}`, value('"v"', ver(1)));
    for (let i = 0; i < 3; i++) store.get(`k${i}`);
    expect(store.apply('k3', value('"v"', ver(1), T0 + 1000))).toBe(false);
    expect(store.has('k3')).toBe(false);
    expect(store.keys().sort()).toEqual(['k0', 'k1', 'k2']);
    expect(store.stats()).toMatchObject({ evictions: 1, expirations: 0, entries: 3, values: 3 });
    expectConsistent(store);
    // The key can be written again later (and is then judged afresh).
    expect(codeOf(() => store.apply('k3', value('"v"', ver(2))))).toBeUndefined();
    expectConsistent(store);
  });
});
