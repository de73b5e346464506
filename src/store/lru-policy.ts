/**
 * Least recently used (the classic policy; see e.g. Mattson, Gecsei, Slutz & Traiger, "Evaluation
 * techniques for storage hierarchies", IBM Systems Journal 1970): evicts the entry whose last
 * insert, read or overwrite is the oldest. One intrusive list on typed arrays, O(1) per operation.
 */
import type { SlotPolicy } from './slot-policy.js';
import { SlotLists } from './slot-lists.js';

/** LRU over the store's slots: one intrusive list, O(1) per operation (see the module comment). */
export class LruPolicy implements SlotPolicy {
  readonly name = 'lru' as const;
  private readonly lists: SlotLists;

  /** @param slots initial number of slots */
  constructor(slots: number) {
    this.lists = new SlotLists(1, slots);
  }

  grow(slots: number): void {
    this.lists.grow(slots);
  }

  onInsert(slot: number): void {
    this.lists.pushHead(0, slot);
  }

  onHit(slot: number): void {
    this.lists.moveToHead(0, slot);
  }

  onUpdate(slot: number): void {
    this.lists.moveToHead(0, slot);
  }

  onRemove(slot: number): void {
    this.lists.unlink(slot);
  }

  evict(): number {
    const victim = this.lists.tails[0]!;
    if (victim !== -1) this.lists.unlink(victim);
    return victim;
  }

  clear(): void {
    this.lists.clear();
  }

  /** Slots from least to most recently used (O(n); for tests). */
  slotsByRecency(): number[] {
    const out: number[] = [];
    for (let s = this.lists.tails[0]!; s !== -1; s = this.lists.prev.get(s)) out.push(s);
    return out;
  }
}
