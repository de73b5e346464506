import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStore, entrySize, EVICTION_POLICIES } from '../../../src/store/create-store.js';

type Op =
  | { kind: 'set'; key: number; value: string; ttl: number }
  | { kind: 'get'; key: number }
  | { kind: 'delete'; key: number }
  | { kind: 'tick'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 30 }), value: fc.string({ maxLength: 12 }), ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })) }),
  fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20 }) }),
);

describe.each(EVICTION_POLICIES)('createStore properties (%s)', (policy) => {
  it('stays within its bounds, never returns an expired, deleted or evicted value, and counts exactly', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), fc.boolean(), (ops, maxEntries, byBytes) => {
        const clock = { t: 0 };
        const maxBytes = byBytes ? maxEntries * entrySize(10, 'x'.repeat(6)) : undefined;
        const store = createStore<string>(byBytes ? { policy, maxBytes: maxBytes!, now: () => clock.t } : { policy, maxEntries, now: () => clock.t });
        // A model of what may be in the store: the last value written to each key and its expiry.
        const model = new Map<number, { value: string; expiresAt: number }>();
        for (const o of ops) {
          if (o.kind === 'tick') clock.t += o.ms;
          else if (o.kind === 'delete') {
            store.delete(o.key);
            model.delete(o.key);
          } else if (o.kind === 'set') {
            if (store.set(o.key, o.value, o.ttl)) model.set(o.key, { value: o.value, expiresAt: o.ttl === 0 ? 0 : clock.t + o.ttl });
            // A refused write (larger than maxBytes, or `none` with no room) leaves the store unchanged;
            // any other false is the policy dropping the new entry at once, and the old value with it.
            else if (policy !== 'none' && !(byBytes && entrySize(o.key, o.value) > maxBytes!)) model.delete(o.key);
          } else {
            const got = store.get(o.key);
            const expected = model.get(o.key);
            if (got !== undefined) {
              // Whatever comes back is the last write, and it is live.
              expect(expected).toBeDefined();
              expect(got).toBe(expected!.value);
              expect(expected!.expiresAt === 0 || expected!.expiresAt > clock.t).toBe(true);
            }
          }
          if (byBytes) expect(store.bytes).toBeLessThanOrEqual(maxBytes!);
          else expect(store.size).toBeLessThanOrEqual(maxEntries);
        }
        // Every key the store says it has is a live model entry; sizes and bytes add up.
        let bytes = 0;
        let size = 0;
        for (let key = 0; key <= 30; key++) {
          if (!store.has(key)) continue;
          const expected = model.get(key);
          expect(expected).toBeDefined();
          expect(expected!.expiresAt === 0 || expected!.expiresAt > clock.t).toBe(true);
          bytes += entrySize(key, expected!.value);
          size += 1;
        }
        expect(store.size).toBe(size);
        expect(store.bytes).toBe(bytes);
      }),
      { numRuns: Number(process.env.RINGCACHE_PROPERTY_RUNS ?? 150) },
    );
  });
});
