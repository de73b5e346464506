/**
 * Intrusive doubly linked lists over integer slots, on typed arrays: the building block of the
 * eviction policies ({@link LruPolicy}, {@link S3FifoPolicy}, {@link WTinyLfuPolicy}).
 *
 * Every slot is in at most one of the lists at a time; `prev`/`next` hold slot numbers (-1 =
 * none) and `list` which list the slot is in (255 = none). Nothing is allocated per operation,
 * and the arrays grow by doubling when the store adds slots ({@link SlotLists.grow}).
 *
 * Direction: `head` is the most recently pushed end, `tail` the oldest (the eviction end).
 */
export const NO_LIST = 255;

/** Copies `a` into a new array of `length` elements, the rest filled with `fill`. */
export function growInt32(a: Int32Array, length: number, fill: number): Int32Array {
  const out = new Int32Array(length);
  out.set(a);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}

/** Copies `a` into a new array of `length` elements, the rest filled with `fill`. */
export function growUint8(a: Uint8Array, length: number, fill: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(a);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}

/** Copies `a` into a new array of `length` elements (the rest 0). */
export function growFloat64(a: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  out.set(a);
  return out;
}

/** A fixed number of intrusive lists over slots `0 .. capacity-1`. */
export class SlotLists {
  prev: Int32Array;
  next: Int32Array;
  /** The list each slot is in, or {@link NO_LIST}. */
  list: Uint8Array;
  readonly heads: Int32Array;
  readonly tails: Int32Array;
  /** Number of slots in each list. */
  readonly counts: Int32Array;

  /**
   * @param lists number of lists (at most 255)
   * @param capacity initial number of slots
   */
  constructor(lists: number, capacity: number) {
    this.prev = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.list = new Uint8Array(capacity).fill(NO_LIST);
    this.heads = new Int32Array(lists).fill(-1);
    this.tails = new Int32Array(lists).fill(-1);
    this.counts = new Int32Array(lists);
  }

  /** Makes room for slots up to `capacity - 1`. */
  grow(capacity: number): void {
    if (capacity <= this.prev.length) return;
    this.prev = growInt32(this.prev, capacity, -1);
    this.next = growInt32(this.next, capacity, -1);
    this.list = growUint8(this.list, capacity, NO_LIST);
  }

  /** Pushes `slot` (in no list) at the head of list `l`. */
  pushHead(l: number, slot: number): void {
    const head = this.heads[l]!;
    this.prev[slot] = -1;
    this.next[slot] = head;
    if (head !== -1) this.prev[head] = slot;
    else this.tails[l] = slot;
    this.heads[l] = slot;
    this.list[slot] = l;
    this.counts[l]! += 1;
  }

  /** Pushes `slot` (in no list) at the tail of list `l`. */
  pushTail(l: number, slot: number): void {
    const tail = this.tails[l]!;
    this.next[slot] = -1;
    this.prev[slot] = tail;
    if (tail !== -1) this.next[tail] = slot;
    else this.heads[l] = slot;
    this.tails[l] = slot;
    this.list[slot] = l;
    this.counts[l]! += 1;
  }

  /** Unlinks `slot` from its list; a slot in no list is left alone. */
  unlink(slot: number): void {
    const l = this.list[slot]!;
    if (l === NO_LIST) return;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== -1) this.next[p] = n;
    else this.heads[l] = n;
    if (n !== -1) this.prev[n] = p;
    else this.tails[l] = p;
    this.prev[slot] = -1;
    this.next[slot] = -1;
    this.list[slot] = NO_LIST;
    this.counts[l]! -= 1;
  }

  /** Moves `slot` (in list `l`) to the head of `l`. */
  moveToHead(l: number, slot: number): void {
    if (this.heads[l] === slot) return;
    this.unlink(slot);
    this.pushHead(l, slot);
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
