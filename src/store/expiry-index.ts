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
 * Items live in two parallel arrays rather than one object per item: 16 bytes per item, no
 * allocation per push, and the times array stays a packed array of unboxed doubles.
 */

/** Items moved from the draining heap per `add` or `discard` while a compaction runs. */
const MIGRATE_PER_OP = 4;

/** A binary min-heap of `(time, key)` in two parallel arrays. */
class TimeHeap {
  times: number[] = [];
  keys: string[] = [];

  get size(): number {
    return this.times.length;
  }

  /** The earliest time, or Infinity when empty. */
  top(): number {
    return this.times.length === 0 ? Infinity : this.times[0]!;
  }

  push(time: number, key: string): void {
    const times = this.times;
    const keys = this.keys;
    let i = times.length;
    times.push(time);
    keys.push(key);
    // Sift up: move the hole towards the root while the parent expires later.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = times[parent]!;
      if (parentTime <= time) break;
      times[i] = parentTime;
      keys[i] = keys[parent]!;
      i = parent;
    }
    times[i] = time;
    keys[i] = key;
  }

  /** Removes the root: the last item takes its place and sinks. */
  popRoot(): void {
    const lastTime = this.times.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.times.length === 0) return;
    this.times[0] = lastTime;
    this.keys[0] = lastKey;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const times = this.times;
    const keys = this.keys;
    const n = times.length;
    const time = times[start]!;
    const key = keys[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times[child + 1]! < times[child]!) child += 1;
      const childTime = times[child]!;
      if (childTime >= time) break;
      times[i] = childTime;
      keys[i] = keys[child]!;
      i = child;
    }
    times[i] = time;
    keys[i] = key;
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
      const time = source.times[0]!;
      if (time > now) break;
      const key = source.keys[0]!;
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
    const times = draining.times;
    const keys = draining.keys;
    for (let moved = 0; moved < count && times.length > 0; moved++) {
      const time = times.pop()!;
      const key = keys.pop()!;
      if (this.currentExpiry(key) === time) this.heap.push(time, key);
      else if (this.stale > 0) this.stale -= 1;
    }
    if (times.length === 0) this.draining = null;
  }
}
