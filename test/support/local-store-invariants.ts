/**
 * Checks a LocalStore's byte, count and expiry-index invariants without trusting its counters:
 * every key is peeked (which reclaims expired entries, adjusting the counters as it goes) and the
 * remaining entries are summed independently.
 */
import { expect } from 'vitest';
import { entryBytes } from '../../src/store/entry.js';
import type { ExpiryIndex } from '../../src/store/expiry-index.js';
import type { LocalStore } from '../../src/store/local-store.js';
import { cellBytesFor, type ValueSlab } from '../../src/store/value-slab.js';

export function expectConsistent(store: LocalStore): void {
  let sum = 0;
  let values = 0;
  let entries = 0;
  let scheduled = 0;
  let cells = 0;
  for (const key of store.keys()) {
    const entry = store.peek(key);
    if (entry === undefined) continue;
    sum += entryBytes(key, entry.value);
    entries += 1;
    if (entry.value !== null) {
      values += 1;
      cells += cellBytesFor(Buffer.byteLength(entry.value, 'utf8'));
    }
    if (entry.expiresAt !== 0) scheduled += 1;
  }
  // The expiry index's stale count is exact when the store reports every removal to it.
  const index = (store as unknown as { expiry: ExpiryIndex }).expiry;
  expect(index.size - index.staleCount).toBe(scheduled);
  expect(store.bytes).toBe(sum);
  // Every value's cell is in use, and no other: a cell freed twice or never would show here.
  expect((store as unknown as { slab: ValueSlab }).slab.usedBytes).toBe(cells);
  expect(store.bytes).toBeLessThanOrEqual(store.maxBytes);
  expect(store.stats()).toMatchObject({ entries, values, tombstones: entries - values, bytes: sum, maxBytes: store.maxBytes });
}
