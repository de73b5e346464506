/**
 * The eviction-policy seam of the store engine ({@link SlotStore}, behind `createStore` and
 * `LocalStore`).
 *
 * The store owns the entries: one `Map` from key to an integer slot, and the slot's key, value,
 * size and expiry in parallel arrays. A policy sees slots only (never keys or values), keeps its
 * own bookkeeping in typed arrays indexed by slot, and decides two things:
 *
 * - admission and placement: {@link SlotPolicy.onInsert} puts a new slot where the policy wants it
 *   (S3-FIFO: the small queue, or the main queue on a ghost hit; W-TinyLFU: the window);
 * - eviction: the store calls {@link SlotPolicy.evict} while it is over `maxEntries` or
 *   `maxBytes`. The policy drops the slot it names from its own bookkeeping and returns it; the
 *   store removes the entry. It may name the slot just inserted: that is how an admission policy
 *   rejects a new key (W-TinyLFU when the candidate's estimated frequency does not beat the
 *   victim's).
 *
 * Weights: every slot carries a weight in the unit of the policy's `capacity` — 1 per entry
 * when the store is bounded by `maxEntries`, the entry's bytes when it is bounded by `maxBytes`
 * only. Policies that size queues as fractions of the capacity (S3-FIFO's 10% small queue,
 * W-TinyLFU's 1% window and 80% protected segment) measure them in that unit.
 *
 * Every method is on the request path: O(1) (amortized), no allocation per call.
 */

/** The eviction policies, by name. */
export const EVICTION_POLICIES = ['lru', 'lfu', 's3-fifo', 'w-tinylfu', 'none'] as const;

/** The name of an eviction policy. */
export type EvictionPolicyName = (typeof EVICTION_POLICIES)[number];

/** True when `name` is one of {@link EVICTION_POLICIES}. */
export function isEvictionPolicyName(name: string): name is EvictionPolicyName {
  return (EVICTION_POLICIES as readonly string[]).includes(name);
}

/** Bookkeeping of one eviction policy over the store's slots; see the module comment. */
export interface SlotPolicy {
  readonly name: EvictionPolicyName;
  /** Makes room for slots `0 .. slots-1`; the store calls it before handing out a new slot. */
  grow(slots: number): void;
  /**
   * A new entry took `slot`.
   * @param hash a 32-bit hash of the key (for sketches and ghost queues)
   * @param weight the entry's weight, in the unit of the capacity
   */
  onInsert(slot: number, hash: number, weight: number): void;
  /** The entry in `slot` was read. */
  onHit(slot: number): void;
  /** The entry in `slot` was overwritten; its weight changed from `oldWeight` to `newWeight`. Counts as a use. */
  onUpdate(slot: number, oldWeight: number, newWeight: number): void;
  /** The entry in `slot` left the store (deleted or expired), not by {@link evict}. */
  onRemove(slot: number): void;
  /** Removes the next victim from the policy's bookkeeping and returns its slot, or -1 when it evicts nothing. */
  evict(): number;
  /** Forgets every slot. */
  clear(): void;
}
