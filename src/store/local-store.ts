/**
 * The local versioned store of one peer: the keys this peer holds, as primary or replica.
 *
 * - Last-writer-wins: an entry replaces the stored one only when its version is newer
 *   (`compareVersions`, hybrid logical clock), so replicas converge whatever order writes,
 *   replication and handoff arrive in. Deletes are tombstones that win over older values until
 *   their own TTL runs out.
 * - TTL: entries past their `expiresAt` are never returned. They are reclaimed lazily when a
 *   read finds them and actively by {@link LocalStore.sweepExpired}, which walks an
 *   {@link ExpiryIndex} in expiry order within a time budget (so a million keys expiring together
 *   are reclaimed in slices between which I/O runs, not in one long stall).
 * - Memory: the entries live in a {@link SlotStore} (the engine of `createStore`) bounded by
 *   `maxBytes` only, each weighing {@link entryBytes}; after a write the engine evicts its
 *   policy's victims (`policy`, default {@link DEFAULT_EVICTION_POLICY}) until the store is back
 *   within `maxBytes`. A policy may drop the entry just written at once (LFU, where a newcomer
 *   has the lowest count; S3-FIFO when nothing else in its small queue can go; an admission
 *   filter such as W-TinyLFU's may in principle): `apply` then returns false, like a write that
 *   lost. The `none` policy never evicts: a write that does not
 *   fit throws OUT_OF_MEMORY. Tombstones are charged and evicted like values (a read does not
 *   refresh them): a tombstone evicted before its TTL lets an older value come back from a stale
 *   replica, but never evicting them would let deletes fill the budget with nothing to give back.
 * - TTL is LocalStore's alone: the engine is given no expiry time (it would reclaim entries
 *   behind this store's back), and an expired entry the engine evicts is counted here as an
 *   expiration.
 *
 * The store has no I/O. Time comes from an injected clock, and its only timers are those of the
 * optional expiry sweeper, which {@link LocalStore.stopExpirySweeper} clears.
 */
import { CacheError } from '../errors.js';
import { compareVersions } from '../hlc.js';
import { entryBytes, type StoredEntry } from './entry.js';
import { DEFAULT_EVICTION_POLICY, EXPIRING_INDEX_SHARDS, SlotStore, type EvictionPolicyName } from './create-store.js';
import { ExpiryIndex } from './expiry-index.js';

/** Options of a {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Byte budget of the store, as charged by {@link entryBytes}. A positive number. */
  maxBytes: number;
  /**
   * Eviction policy: `lru`, `lfu`, `s3-fifo`, `w-tinylfu` or `none` (refuse a write that does not
   * fit with OUT_OF_MEMORY). Default {@link DEFAULT_EVICTION_POLICY}.
   */
  policy?: EvictionPolicyName;
  /** Clock in ms since the Unix epoch. Default `Date.now`. */
  now?: () => number;
  /** Lifetime of a tombstone applied with `expiresAt` 0, in ms. A positive number. */
  tombstoneTtlMs: number;
}

/** Options of {@link LocalStore.startExpirySweeper}. */
export interface ExpirySweeperOptions {
  /** Period of the sweep, in ms (config `expirySweepIntervalMs`). */
  intervalMs: number;
  /** Longest one sweep slice may hold the event loop, in ms (config `expirySweepBudgetMs`). */
  budgetMs: number;
}

/** Counters of a {@link LocalStore}, as reported by {@link LocalStore.stats}. */
export interface LocalStoreStats {
  /** Entries held, tombstones included. */
  entries: number;
  /** Entries holding a value. */
  values: number;
  /** Entries that are tombstones. */
  tombstones: number;
  /** Bytes charged, the sum of {@link entryBytes} over the entries. */
  bytes: number;
  /** The byte budget. */
  maxBytes: number;
  /** Entries removed to stay within the budget, since creation or `clear()`. */
  evictions: number;
  /** Entries removed because they expired (by a read, a write or the sweep), since creation or `clear()`. */
  expirations: number;
}

/**
 * Items popped from the expiry index between two looks at the clock of a sweep. Small, because
 * the sweep's code is cold (even interpreted) when a mass expiry first hits it: at 256, the first
 * slices of a million-key expiry overran a 4 ms budget by 5-20 ms.
 */
const SWEEP_CHUNK = 32;

/**
 * Time a `none` store may spend reclaiming expired entries to make room for a write before it
 * refuses it, in ms: the sweeper may not have caught up, and refusing a write while dead entries
 * hold the room would be wrong, but a write must not stall on a large backlog either.
 */
const RECLAIM_FOR_WRITE_BUDGET_MS = 1;

/** A peer's local versioned store. See the module comment for the model. */
export class LocalStore {
  /** The eviction policy in use. */
  readonly policy: EvictionPolicyName;
  private readonly engine: SlotStore<StoredEntry>;
  private readonly now: () => number;
  private readonly expiry: ExpiryIndex;
  private readonly budget: number;
  private readonly tombstoneTtlMs: number;
  private readonly refuse: boolean;
  private valueCount = 0;
  /**
   * While `engine.put` runs: the key being written, and the expiry time the expiry index knows
   * for it (that of the entry it replaces; undefined for an insert). The index is told of the new
   * time only once the write is settled, so until then it must see the old one.
   */
  private writingKey: string | undefined = undefined;
  private writingExpiry: number | undefined = undefined;
  /** Set when the engine evicted the entry being written (an admission rejection). */
  private writtenEvicted = false;
  private evictions = 0;
  private expirations = 0;
  private sweepInterval: NodeJS.Timeout | undefined;
  private sweepImmediate: NodeJS.Immediate | undefined;
  private sweepBudgetMs = 0;
  /** The keys of one sweep chunk, reused (see {@link ExpiryIndex.popExpired}). */
  private readonly sweepKeys: string[] = [];

  /**
   * @throws CacheError BAD_CONFIG when `maxBytes` or `tombstoneTtlMs` is not a positive number,
   *   or `policy` is not a known policy
   */
  constructor(options: LocalStoreOptions) {
    if (!(options.maxBytes > 0)) throw new CacheError('BAD_CONFIG', `maxBytes: expected a positive number of bytes, got ${options.maxBytes}`);
    if (!(options.tombstoneTtlMs > 0)) {
      throw new CacheError('BAD_CONFIG', `tombstoneTtlMs: expected a positive number of ms, got ${options.tombstoneTtlMs}`);
    }
    this.budget = options.maxBytes;
    this.tombstoneTtlMs = options.tombstoneTtlMs;
    this.now = options.now ?? Date.now;
    // A split key index: a mass expiry must not make V8 rebuild one million-key Map in one delete.
    this.engine = new SlotStore<StoredEntry>({ policy: options.policy ?? DEFAULT_EVICTION_POLICY, maxBytes: options.maxBytes, indexShards: EXPIRING_INDEX_SHARDS });
    this.policy = this.engine.policy;
    this.refuse = this.policy === 'none';
    this.engine.onEvict = this.onEngineEvict;
    this.expiry = new ExpiryIndex(this.indexedExpiry);
  }

  /** Entries held, tombstones included (expired entries not yet reclaimed count until they are). */
  get size(): number {
    return this.engine.size;
  }

  /** Entries holding a value, i.e. not tombstones (expired ones count until reclaimed). */
  get liveCount(): number {
    return this.valueCount;
  }

  /** Bytes charged: the sum of {@link entryBytes} over the entries held. Never above {@link maxBytes} after a write. */
  get bytes(): number {
    return this.engine.bytes;
  }

  /** The byte budget. */
  get maxBytes(): number {
    return this.budget;
  }

  /**
   * The live entry of `key`, tombstones included (a tombstone answers "deleted"), or undefined.
   * An expired entry is never returned: it is removed and counted as an expiration. Reading a
   * value (not a tombstone) counts as an access for the eviction policy.
   *
   * The returned object is the stored one: do not mutate it.
   */
  get(key: string): StoredEntry | undefined {
    const slot = this.engine.slotOf(key);
    const entry = this.liveAt(slot);
    if (entry !== undefined && entry.value !== null) this.engine.touch(slot);
    return entry;
  }

  /** Like {@link get} but leaves the eviction policy's recency alone. */
  peek(key: string): StoredEntry | undefined {
    return this.liveAt(this.engine.slotOf(key));
  }

  /** The entry in `slot` (-1 = none) unless it has expired, in which case it is reclaimed. */
  private liveAt(slot: number): StoredEntry | undefined {
    if (slot === -1) return undefined;
    const entry = this.engine.valueAt(slot);
    // Only entries with a TTL pay for a clock read.
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.expire(slot, entry);
      return undefined;
    }
    return entry;
  }

  /** True when `key` has a live entry (a tombstone counts). Does not touch recency. */
  has(key: string): boolean {
    return this.peek(key) !== undefined;
  }

  /**
   * Applies a write by last-writer-wins: `entry` is stored when there is no live entry for `key`
   * or its version is newer (`compareVersions(entry.version, current.version) > 0`).
   *
   * - An entry already expired on arrival (`expiresAt !== 0 && expiresAt <= now`) is not stored;
   *   if it is newer than the current entry, the current one is removed all the same (counted as
   *   an expiration): the key expired elsewhere, and that later write must win.
   * - A tombstone (`value === null`) with `expiresAt` 0 is stored with `now + tombstoneTtlMs`
   *   (as a copy; `entry` itself is never mutated).
   * - After storing, the policy's victims are evicted until `bytes <= maxBytes`. The policy may
   *   evict the entry just written (LFU: a newcomer has the lowest count; S3-FIFO: nothing else
   *   in its small queue can go; an admission filter): the key then holds nothing (the entry it
   *   replaced is gone too), the loss is counted as an eviction, and `apply` returns false. The
   *   caller treats that like any eviction: the write was accepted and then dropped, as a cache
   *   may. (`lru` never drops the entry just written.)
   * - With the `none` policy a write that does not fit is refused with OUT_OF_MEMORY; expired
   *   entries due by then may be reclaimed first (for up to ~1 ms) to make room.
   *
   * The store keeps `entry` by reference: do not mutate it afterwards.
   *
   * @returns whether `key` holds the entry afterwards
   * @throws CacheError TOO_LARGE when `entryBytes(key, entry.value)` alone exceeds `maxBytes`
   *   and the entry would otherwise be stored; the store is then left unchanged
   * @throws CacheError OUT_OF_MEMORY with the `none` policy when the entry does not fit in what
   *   is left of `maxBytes` (with the entry it replaces counted as freed); the store's live
   *   entries are then left unchanged (only expired ones may have been reclaimed)
   */
  apply(key: string, entry: StoredEntry): boolean {
    const now = this.now();
    let slot = this.engine.slotOf(key);
    let current = slot === -1 ? undefined : this.engine.valueAt(slot);
    const currentLive = current !== undefined && (current.expiresAt === 0 || current.expiresAt > now);
    if (currentLive && compareVersions(entry.version, current!.version) <= 0) return false;

    let stored = entry;
    if (entry.value === null && entry.expiresAt === 0) {
      stored = { value: null, version: entry.version, expiresAt: now + this.tombstoneTtlMs };
    }
    if (stored.expiresAt !== 0 && stored.expiresAt <= now) {
      if (current !== undefined) this.expire(slot, current);
      return false;
    }

    const size = entryBytes(key, stored.value);
    if (size > this.budget) {
      throw new CacheError('TOO_LARGE', `entry of key ${JSON.stringify(key.slice(0, 64))} takes ${size} bytes, above the store budget of ${this.budget} bytes`);
    }
    if (this.refuse && !this.fits(key, current, size)) {
      if (this.expiry.nextExpiry() <= now) {
        this.sweepExpired(RECLAIM_FOR_WRITE_BUDGET_MS);
        slot = this.engine.slotOf(key);
        current = slot === -1 ? undefined : this.engine.valueAt(slot);
      }
      if (!this.fits(key, current, size)) {
        throw new CacheError('OUT_OF_MEMORY', `store full: entry of key ${JSON.stringify(key.slice(0, 64))} takes ${size} bytes, ${this.engine.bytes} of ${this.budget} bytes are in use and the eviction policy is none`);
      }
    }

    let old: StoredEntry | undefined;
    if (current !== undefined && !currentLive) {
      // Reclaim the dead entry first so the write below is a plain insert.
      this.expire(slot, current);
    } else {
      old = current;
    }

    this.writingKey = key;
    this.writingExpiry = old === undefined || old.expiresAt === 0 ? undefined : old.expiresAt;
    this.writtenEvicted = false;
    let result: 'stored' | 'refused' | 'evicted';
    try {
      result = this.engine.put(key, stored, size, 0);
    } finally {
      this.writingKey = undefined;
      this.writingExpiry = undefined;
    }
    if (result === 'refused') {
      // Unreachable: the size and (for `none`) the room were checked above.
      throw new CacheError('INTERNAL', `the store engine refused an entry of ${size} bytes for key ${JSON.stringify(key.slice(0, 64))}`);
    }
    const oldExpiresAt = old === undefined ? 0 : old.expiresAt;
    if (old !== undefined && old.value !== null) this.valueCount -= 1;
    if (this.writtenEvicted) {
      // The key holds nothing now: the entry it held left with the write.
      if (oldExpiresAt !== 0) this.expiry.discard();
      return false;
    }
    if (stored.value !== null) this.valueCount += 1;
    // The index is told after the engine holds the new entry: a compaction triggered by discard() must see the new time.
    if (stored.expiresAt !== oldExpiresAt) {
      if (oldExpiresAt !== 0) this.expiry.discard();
      if (stored.expiresAt !== 0) this.expiry.add(key, stored.expiresAt);
    }
    return true;
  }

  /**
   * Removes `key` physically, whatever its version (used after handing an entry off to its new
   * owner). An expired entry is reclaimed as an expiration and does not count as removed.
   * @returns whether a live entry (value or tombstone) was removed
   */
  delete(key: string): boolean {
    const slot = this.engine.slotOf(key);
    if (slot === -1) return false;
    const entry = this.engine.valueAt(slot);
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.expire(slot, entry);
      return false;
    }
    this.remove(slot, entry);
    return true;
  }

  /** A snapshot of the keys held, tombstones and not-yet-reclaimed expired entries included. */
  keys(): string[] {
    const out: string[] = [];
    for (const [key] of this.engine.slotEntries()) out.push(key as string);
    return out;
  }

  /**
   * Iterates the live entries (tombstones included, expired ones skipped) for rebalancing.
   *
   * The iteration runs live over the engine's key index (its {@link EXPIRING_INDEX_SHARDS} `Map`s
   * from key to slot, one after the other), whose iterators the language specifies to tolerate
   * mutation: an entry deleted before the iteration reaches it is skipped; an entry added
   * meanwhile (a key deleted and re-added included) is yielded if its `Map` has not been
   * iterated past yet, else not. So a caller may `delete` each key as it hands it off, and
   * writes may interleave across `await`s between steps; each entry is read from its slot and
   * checked against the clock when reached. The order is not the insertion order. Yielded pairs
   * are fresh arrays, the entries the stored objects (do not mutate them).
   */
  *entries(): IterableIterator<[string, StoredEntry]> {
    for (const [key, slot] of this.engine.slotEntries()) {
      const entry = this.engine.valueAt(slot);
      if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) continue;
      yield [key as string, entry];
    }
  }

  /**
   * Removes expired entries (values and tombstones) in expiry order until nothing more is due,
   * `budgetMs` of wall time (measured with `performance.now()`) is spent, or `maxItems` entries
   * are removed. The clock is checked every {@link SWEEP_CHUNK} items, so a call can overrun its
   * budget by the time of one chunk (well under a millisecond), plus what V8 spends inside one
   * delete: a `Map` that falls under a quarter of its capacity is rebuilt in one go (16-25 ms at
   * a million keys with one `Map`; the engine's key index is split into
   * {@link EXPIRING_INDEX_SHARDS} maps, so one rebuild copies at most a few thousand keys), or a
   * GC pause. Returns at once when nothing is due, unless the expiry index is compacting: the
   * remaining budget then goes to that compaction.
   *
   * @param budgetMs time budget in ms
   * @param maxItems most entries to remove. Default: no limit
   * @returns the number of entries removed
   */
  sweepExpired(budgetMs: number, maxItems = Infinity): number {
    const now = this.now();
    if (this.expiry.nextExpiry() > now && !this.expiry.compacting) return 0;
    const start = performance.now();
    let removed = 0;
    while (removed < maxItems) {
      const keys = this.expiry.popExpired(now, Math.min(SWEEP_CHUNK, maxItems - removed), this.sweepKeys);
      for (let i = 0; i < keys.length; i++) {
        // Defensive: popExpired only returns keys whose entry holds the popped time.
        const slot = this.engine.slotOf(keys[i]!);
        if (slot === -1) continue;
        this.removeEntry(slot, this.engine.valueAt(slot));
        this.expirations += 1;
        removed += 1;
      }
      // Idle time also finishes a compaction of the index (popExpired moves a chunk of it).
      if (this.expiry.nextExpiry() > now && !this.expiry.compacting) break;
      if (performance.now() - start >= budgetMs) break;
    }
    return removed;
  }

  /**
   * Starts the active expiry sweep: {@link sweepExpired} every `intervalMs`; a slice that ran
   * out of budget with more entries due is followed by another on `setImmediate` (so pending
   * I/O runs between slices) until the sweep has caught up. Restarts the sweep if running.
   * The timers are unref'd: they do not keep the process alive.
   */
  startExpirySweeper(options: ExpirySweeperOptions): void {
    this.stopExpirySweeper();
    this.sweepBudgetMs = options.budgetMs;
    this.sweepInterval = setInterval(this.onSweepTick, options.intervalMs);
    this.sweepInterval.unref();
  }

  /** Stops the active expiry sweep and clears its timers. Safe to call when not running. */
  stopExpirySweeper(): void {
    if (this.sweepInterval !== undefined) clearInterval(this.sweepInterval);
    if (this.sweepImmediate !== undefined) clearImmediate(this.sweepImmediate);
    this.sweepInterval = undefined;
    this.sweepImmediate = undefined;
  }

  /** Counters and sizes of the store. */
  stats(): LocalStoreStats {
    return {
      entries: this.engine.size,
      values: this.valueCount,
      tombstones: this.engine.size - this.valueCount,
      bytes: this.engine.bytes,
      maxBytes: this.budget,
      evictions: this.evictions,
      expirations: this.expirations,
    };
  }

  /** Removes every entry and resets the counters. A running sweeper keeps running. */
  clear(): void {
    this.engine.clear();
    this.expiry.clear();
    this.valueCount = 0;
    this.evictions = 0;
    this.expirations = 0;
  }

  // An arrow property, so the timer reuses one function rather than binding a closure per tick.
  private readonly onSweepTick = (): void => {
    // A continuation already on setImmediate is still catching up; let it finish.
    if (this.sweepImmediate !== undefined) return;
    this.runSweepSlice();
  };

  private readonly runSweepSlice = (): void => {
    this.sweepImmediate = undefined;
    this.sweepExpired(this.sweepBudgetMs);
    if (this.sweepInterval !== undefined && this.expiry.nextExpiry() <= this.now()) {
      this.sweepImmediate = setImmediate(this.runSweepSlice);
      this.sweepImmediate.unref();
    }
  };

  /** The expiry time the index should see for `key`: see {@link writingKey}. */
  private readonly indexedExpiry = (key: string): number | undefined => {
    if (key === this.writingKey) return this.writingExpiry;
    const slot = this.engine.slotOf(key);
    if (slot === -1) return undefined;
    const expiresAt = this.engine.valueAt(slot).expiresAt;
    return expiresAt === 0 ? undefined : expiresAt;
  };

  /**
   * Bookkeeping of an entry the engine evicted (it has already left the engine). An expired
   * victim counts as an expiration, not a loss of live data. The entry being written is
   * settled by `apply` itself.
   */
  private readonly onEngineEvict = (key: string | number, entry: StoredEntry): void => {
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) this.expirations += 1;
    else this.evictions += 1;
    if (key === this.writingKey) {
      this.writtenEvicted = true;
      return;
    }
    if (entry.value !== null) this.valueCount -= 1;
    if (entry.expiresAt !== 0) this.expiry.discard();
  };

  /** True when writing `size` bytes under `key`, replacing `current`, keeps the store within `maxBytes`. */
  private fits(key: string, current: StoredEntry | undefined, size: number): boolean {
    const freed = current === undefined ? 0 : entryBytes(key, current.value);
    return this.engine.bytes - freed + size <= this.budget;
  }

  /** Removes an entry that is not being popped from the expiry index (its item goes stale). */
  private remove(slot: number, entry: StoredEntry): void {
    this.removeEntry(slot, entry);
    if (entry.expiresAt !== 0) this.expiry.discard();
  }

  /** Removes an entry from the engine and the value count; the expiry index is the caller's business. */
  private removeEntry(slot: number, entry: StoredEntry): void {
    this.engine.removeSlot(slot);
    if (entry.value !== null) this.valueCount -= 1;
  }

  private expire(slot: number, entry: StoredEntry): void {
    this.remove(slot, entry);
    this.expirations += 1;
  }
}
