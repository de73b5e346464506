/**
 * The expiry times of a store's entries, earliest first, so the active sweep finds what is due
 * without scanning every entry (the approach of Redis' active expiry, made exact with a heap).
 *
 * A binary min-heap of `(expiresAt, key)` pairs with lazy deletion: when an entry is removed or
 * gets a new expiry time its old item is left in the heap and is recognised as stale when it
 * surfaces, because the entry's current `expiresAt` no longer equals the item's. That keeps
 * removals O(1), which matters because they happen on the request path.
 *
 * Stale items are bounded by compaction, started when they outnumber live ones, and done
 * incrementally, as Redis rehashes its dictionaries: checking an item takes a hash lookup that
 * misses the CPU cache (~200 ns at a million entries), so rebuilding a 2M-item heap at once
 * stalled the event loop ~700 ms where it was measured. Instead the full heap becomes a
 * "draining" heap and a fresh one takes new items; every `add`/`discard` moves a few items from
 * the end of the draining heap (what remains of a heap array after dropping its tail is still a
 * heap) into the fresh one, dropping the stale, and `popExpired` moves up to its `limit`, so the
 * sweeper finishes the job within its time budget when the store is idle. Until then both heaps
 * are consulted, earliest top first.
 *
 * Items live in two parallel paged columns rather than one object per item: 16 bytes per item,
 * no allocation per push, unboxed doubles for the times.
 */
import { Float64Column, ValueColumn } from './slot-columns.js';

/** Items moved from the draining heap per `add` or `discard` while a compaction runs. */
const MIGRATE_PER_OP = 4;

/** Items a heap's columns start with. */
const INITIAL_HEAP_ITEMS = 16;

/**
 * A binary min-heap of `(time, key)` in two parallel paged columns (`slot-columns.ts`): growing
 * copies at most one page, where a JS array grew by copying itself whole (43 ms at two million
 * items, in the write that crossed the size).
 */
class TimeHeap {
  private times = new Float64Column(0, INITIAL_HEAP_ITEMS);
  private keys = new ValueColumn<string>('', INITIAL_HEAP_ITEMS);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The earliest time, or Infinity when empty. */
  top(): number {
    return this.count === 0 ? Infinity : this.times.get(0);
  }

  /** The key of the earliest item (the heap must not be empty). */
  topKey(): string {
    return this.keys.get(0);
  }

  /** The time of the last item in heap order (the heap must not be empty). */
  lastTime(): number {
    return this.times.get(this.count - 1);
  }

  /** The key of the last item in heap order (the heap must not be empty). */
  lastKey(): string {
    return this.keys.get(this.count - 1);
  }

  /** Drops the last item: what remains is still a heap. */
  dropLast(): void {
    this.count -= 1;
    this.keys.set(this.count, '');
    if (this.count === 0) this.release();
  }

  push(time: number, key: string): void {
    const times = this.times;
    const keys = this.keys;
    let i = this.count;
    if (i === times.length) {
      times.grow(i + 1);
      keys.grow(i + 1);
    }
    this.count = i + 1;
    // Sift up: move the hole towards the root while the parent expires later.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = times.get(parent);
      if (parentTime <= time) break;
      times.set(i, parentTime);
      keys.set(i, keys.get(parent));
      i = parent;
    }
    times.set(i, time);
    keys.set(i, key);
  }

  /** Removes the root: the last item takes its place and sinks. */
  popRoot(): void {
    const last = this.count - 1;
    const lastTime = this.times.get(last);
    const lastKey = this.keys.get(last);
    this.dropLast();
    if (this.count === 0) return;
    this.times.set(0, lastTime);
    this.keys.set(0, lastKey);
    this.siftDown(0);
  }

  /** Back to small columns once empty (after a mass expiry the pages would otherwise stay). */
  private release(): void {
    if (this.times.length <= INITIAL_HEAP_ITEMS) return;
    this.times = new Float64Column(0, INITIAL_HEAP_ITEMS);
    this.keys = new ValueColumn<string>('', INITIAL_HEAP_ITEMS);
  }

  private siftDown(start: number): void {
    const times = this.times;
    const keys = this.keys;
    const n = this.count;
    const time = times.get(start);
    const key = keys.get(start);
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times.get(child + 1) < times.get(child)) child += 1;
      const childTime = times.get(child);
      if (childTime >= time) break;
      times.set(i, childTime);
      keys.set(i, keys.get(child));
      i = child;
    }
    times.set(i, time);
    keys.set(i, key);
  }
}

/** An index of expiry times with lazy deletion and incremental compaction; see the module comment. */
export class ExpiryIndex {
  private heap = new TimeHeap();
  /** The previous heap while a compaction runs, drained from its end; null otherwise. */
  private draining: TimeHeap | null = null;
  /** Items known to be stale; an estimate kept exact enough to decide when to compact. */
  private stale = 0;
  /** Keys met by the current {@link popExpired} call. */
  private readonly seen = new Set<string>();

  /**
   * @param currentExpiry the current `expiresAt` (ms epoch) of the entry stored under `key`, or
   *   undefined when there is none. An item whose time differs from it is stale.
   */
  constructor(private readonly currentExpiry: (key: string) => number | undefined) {}

  /** Items held, stale ones included. */
  get size(): number {
    return this.heap.size + (this.draining === null ? 0 : this.draining.size);
  }

  /** Items known to be stale. */
  get staleCount(): number {
    return this.stale;
  }

  /** True while an incremental compaction is under way. */
  get compacting(): boolean {
    return this.draining !== null;
  }

  /**
   * Schedules `key` to expire at `expiresAt` (ms epoch). Call once per new expiry time of an
   * entry, after the entry holds it, and pair every removal or time change of a scheduled entry
   * with {@link discard}. O(log n).
   */
  add(key: string, expiresAt: number): void {
    this.heap.push(expiresAt, key);
    if (this.draining !== null) this.migrate(MIGRATE_PER_OP);
  }

  /**
   * Records that one scheduled item went stale (its entry was removed or got another expiry
   * time); call it after the entry changed. The item stays until it surfaces or a compaction
   * drops it; this call starts a compaction once stale items outnumber live ones. O(1) amortized.
   */
  discard(): void {
    this.stale += 1;
    if (this.draining !== null) this.migrate(MIGRATE_PER_OP);
    else if (this.stale * 2 > this.heap.size) this.startCompaction();
  }

  /** The earliest expiry time held (the item may be stale), or Infinity when empty. */
  nextExpiry(): number {
    const top = this.heap.top();
    if (this.draining === null) return top;
    const drainingTop = this.draining.top();
    return drainingTop < top ? drainingTop : top;
  }

  /**
   * Removes and returns the keys of live items due at `now` (`expiresAt <= now`), earliest
   * first. Examines at most `limit` items, stale ones included, so the cost of one call is
   * bounded by `limit * O(log n)` however many stale items are due; while a compaction runs it
   * also moves up to `limit` items of it (even when nothing is due).
   *
   * Each key comes back at most once per call: a key removed and re-added with the same expiry
   * time has two items that both look live until the caller removes the entry, so the second
   * one met in the same call is dropped as the stale item it is.
   *
   * @param now current time in ms since the Unix epoch
   * @param limit most items to examine
   * @param out array the keys are appended to (emptied first), so that a sweep calling this
   *   every few dozen items can reuse one; default a new array
   * @returns `out`
   */
  popExpired(now: number, limit: number, out: string[] = []): string[] {
    if (this.draining !== null) this.migrate(limit);
    out.length = 0;
    // Reused from call to call: a sweep pops a few dozen items per call, and young garbage per
    // call meant scavenges in the middle of a mass expiry.
    const seen = this.seen;
    seen.clear();
    for (let examined = 0; examined < limit; examined++) {
      let source = this.heap;
      if (this.draining !== null && this.draining.top() < source.top()) source = this.draining;
      if (source.size === 0) break;
      const time = source.top();
      if (time > now) break;
      const key = source.topKey();
      source.popRoot();
      if (this.currentExpiry(key) === time && !seen.has(key)) {
        seen.add(key);
        out.push(key);
      } else if (this.stale > 0) {
        this.stale -= 1;
      }
    }
    if (this.draining !== null && this.draining.size === 0) this.draining = null;
    seen.clear();
    return out;
  }

  /** Drops every item. */
  clear(): void {
    this.heap = new TimeHeap();
    this.draining = null;
    this.stale = 0;
  }

  private startCompaction(): void {
    this.draining = this.heap;
    this.heap = new TimeHeap();
    this.migrate(MIGRATE_PER_OP);
  }

  /** Moves up to `count` items from the end of the draining heap into the live heap, dropping stale ones. */
  private migrate(count: number): void {
    const draining = this.draining!;
    for (let moved = 0; moved < count && draining.size > 0; moved++) {
      const time = draining.lastTime();
      const key = draining.lastKey();
      draining.dropLast();
      if (this.currentExpiry(key) === time) this.heap.push(time, key);
      else if (this.stale > 0) this.stale -= 1;
    }
    if (draining.size === 0) this.draining = null;
  }
}
