/**
 * Intrusive doubly linked lists over integer slots, on typed arrays: the building block of the
 * eviction policies ({@link LruPolicy}, {@link S3FifoPolicy}, {@link WTinyLfuPolicy}).
 *
 * Every slot is in at most one of the lists at a time; `prev`/`next` hold slot numbers (-1 =
 * none) and `list` which list the slot is in (255 = none). Nothing is allocated per operation,
 * and the columns grow by pages when the store adds slots ({@link SlotLists.grow}, see
 * `slot-columns.ts`).
 *
 * Direction: `head` is the most recently pushed end, `tail` the oldest (the eviction end).
 */
import { Int32Column, Uint8Column } from './slot-columns.js';
export const NO_LIST = 255;

/** A fixed number of intrusive lists over slots `0 .. capacity-1`. */
export class SlotLists {
  readonly prev: Int32Column;
  readonly next: Int32Column;
  /** The list each slot is in, or {@link NO_LIST}. */
  readonly list: Uint8Column;
  readonly heads: Int32Array;
  readonly tails: Int32Array;
  /** Number of slots in each list. */
  readonly counts: Int32Array;

  /**
   * @param lists number of lists (at most 255)
   * @param capacity initial number of slots
   */
  constructor(lists: number, capacity: number) {
    this.prev = new Int32Column(-1, capacity);
    this.next = new Int32Column(-1, capacity);
    this.list = new Uint8Column(NO_LIST, capacity);
    this.heads = new Int32Array(lists).fill(-1);
    this.tails = new Int32Array(lists).fill(-1);
    this.counts = new Int32Array(lists);
  }

  /** Makes room for slots up to `capacity - 1`. */
  grow(capacity: number): void {
    this.prev.grow(capacity);
    this.next.grow(capacity);
    this.list.grow(capacity);
  }

  /** Pushes `slot` (in no list) at the head of list `l`. */
  pushHead(l: number, slot: number): void {
    const head = this.heads[l]!;
    this.prev.set(slot, -1);
    this.next.set(slot, head);
    if (head !== -1) this.prev.set(head, slot);
    else this.tails[l] = slot;
    this.heads[l] = slot;
    this.list.set(slot, l);
    this.counts[l]! += 1;
  }

  /** Pushes `slot` (in no list) at the tail of list `l`. */
  pushTail(l: number, slot: number): void {
    const tail = this.tails[l]!;
    this.next.set(slot, -1);
    this.prev.set(slot, tail);
    if (tail !== -1) this.next.set(tail, slot);
    else this.heads[l] = slot;
    this.tails[l] = slot;
    this.list.set(slot, l);
    this.counts[l]! += 1;
  }

  /** Unlinks `slot` from its list; a slot in no list is left alone. */
  unlink(slot: number): void {
    const l = this.list.get(slot);
    if (l === NO_LIST) return;
    const p = this.prev.get(slot);
    const n = this.next.get(slot);
    if (p !== -1) this.next.set(p, n);
    else this.heads[l] = n;
    if (n !== -1) this.prev.set(n, p);
    else this.tails[l] = p;
    this.prev.set(slot, -1);
    this.next.set(slot, -1);
    this.list.set(slot, NO_LIST);
    this.counts[l]! -= 1;
  }

  /** Takes the tail of list `l` off it and returns it; -1 when `l` is empty. Cheaper than {@link unlink} of the tail. */
  popTail(l: number): number {
    const slot = this.tails[l]!;
    if (slot === -1) return -1;
    const p = this.prev.get(slot);
    if (p !== -1) this.next.set(p, -1);
    else this.heads[l] = -1;
    this.tails[l] = p;
    this.prev.set(slot, -1);
    this.list.set(slot, NO_LIST);
    this.counts[l]! -= 1;
    return slot;
  }

  /** Moves `slot` (in list `l`) to the head of `l`. */
  moveToHead(l: number, slot: number): void {
    const head = this.heads[l]!;
    if (head === slot) return;
    // Unlinked and relinked in place: `slot` is not the head, so it has a predecessor.
    const prev = this.prev;
    const next = this.next;
    const p = prev.get(slot);
    const n = next.get(slot);
    next.set(p, n);
    if (n !== -1) prev.set(n, p);
    else this.tails[l] = p;
    prev.set(slot, -1);
    next.set(slot, head);
    prev.set(head, slot);
    this.heads[l] = slot;
  }

  /** Empties every list. */
  clear(): void {
    this.prev.fill(-1);
    this.next.fill(-1);
    this.list.fill(NO_LIST);
    this.heads.fill(-1);
    this.tails.fill(-1);
    this.counts.fill(0);
  }
}
