/**
 * No eviction, as Redis' `noeviction`: the store refuses a write that does not fit
 * (`createStore`'s `set` returns false, `LocalStore.apply` throws OUT_OF_MEMORY) instead of
 * making room. The store checks the fit before inserting, so {@link NoEvictionPolicy.evict}
 * is never asked for a victim in practice.
 */
import type { SlotPolicy } from './slot-policy.js';

export class NoEvictionPolicy implements SlotPolicy {
  readonly name = 'none' as const;
  grow(): void {}
  onInsert(): void {}
  onHit(): void {}
  onUpdate(): void {}
  onRemove(): void {}
  evict(): number {
    return -1;
  }
  clear(): void {}
}
