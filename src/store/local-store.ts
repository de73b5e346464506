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
 * - Memory: every entry is charged {@link entryBytes}; after a write the store evicts the
 *   {@link EvictionPolicy}'s victims until it is back within `maxBytes`. Tombstones are charged
 *   and evicted like values (a read does not refresh them): a tombstone evicted before its TTL
 *   lets an older value come back from a stale replica, but never evicting them would let
 *   deletes fill the budget with nothing to give back.
 *
 * The store has no I/O. Time comes from an injected clock, and its only timers are those of the
 * optional expiry sweeper, which {@link LocalStore.stopExpirySweeper} clears.
 */
import { CacheError } from '../errors.js';
import { compareVersions } from '../hlc.js';
import { entryBytes, type StoredEntry } from './entry.js';
import { LruPolicy, type EvictionPolicy } from './eviction-policy.js';
import { ExpiryIndex } from './expiry-index.js';

/** Options of a {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Byte budget of the store, as charged by {@link entryBytes}. A positive number. */
  maxBytes: number;
  /** Chooses what to evict when over budget. Default: a fresh {@link LruPolicy}. */
  policy?: EvictionPolicy;
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

/** Items popped from the expiry index between two looks at the clock of a sweep. */
const SWEEP_CHUNK = 256;

/** A peer's local versioned store. See the module comment for the model. */
export class LocalStore {
  private readonly map = new Map<string, StoredEntry>();
  private readonly policy: EvictionPolicy;
  private readonly now: () => number;
  private readonly expiry: ExpiryIndex;
  private readonly budget: number;
  private readonly tombstoneTtlMs: number;
  private totalBytes = 0;
  private valueCount = 0;
  private evictions = 0;
  private expirations = 0;
  private sweepInterval: NodeJS.Timeout | undefined;
  private sweepImmediate: NodeJS.Immediate | undefined;
  private sweepBudgetMs = 0;

  /**
   * @throws CacheError BAD_CONFIG when `maxBytes` or `tombstoneTtlMs` is not a positive number
   */
  constructor(options: LocalStoreOptions) {
    if (!(options.maxBytes > 0)) throw new CacheError('BAD_CONFIG', `maxBytes: expected a positive number of bytes, got ${options.maxBytes}`);
    if (!(options.tombstoneTtlMs > 0)) {
      throw new CacheError('BAD_CONFIG', `tombstoneTtlMs: expected a positive number of ms, got ${options.tombstoneTtlMs}`);
    }
    this.budget = options.maxBytes;
    this.tombstoneTtlMs = options.tombstoneTtlMs;
    this.policy = options.policy ?? new LruPolicy();
    this.now = options.now ?? Date.now;
    this.expiry = new ExpiryIndex((key) => this.map.get(key)?.expiresAt);
  }

  /** Entries held, tombstones included (expired entries not yet reclaimed count until they are). */
  get size(): number {
    return this.map.size;
  }

  /** Entries holding a value, i.e. not tombstones (expired ones count until reclaimed). */
  get liveCount(): number {
    return this.valueCount;
  }

  /** Bytes charged: the sum of {@link entryBytes} over the entries held. Never above {@link maxBytes} after a write. */
  get bytes(): number {
    return this.totalBytes;
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
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    // Only entries with a TTL pay for a clock read.
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.expire(key, entry);
      return undefined;
    }
    if (entry.value !== null) this.policy.onAccess(key);
    return entry;
  }

  /** Like {@link get} but leaves the eviction policy's recency alone. */
  peek(key: string): StoredEntry | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.expire(key, entry);
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
   * - After storing, the policy's victims are evicted until `bytes <= maxBytes`; the entry just
   *   written is never one of them.
   *
   * The store keeps `entry` by reference: do not mutate it afterwards.
   *
   * @returns whether the entry was stored
   * @throws CacheError TOO_LARGE when `entryBytes(key, entry.value)` alone exceeds `maxBytes`
   *   and the entry would otherwise be stored; the store is then left unchanged
   */
  apply(key: string, entry: StoredEntry): boolean {
    const now = this.now();
    const current = this.map.get(key);
    const currentLive = current !== undefined && (current.expiresAt === 0 || current.expiresAt > now);
    if (currentLive && compareVersions(entry.version, current.version) <= 0) return false;

    let stored = entry;
    if (entry.value === null && entry.expiresAt === 0) {
      stored = { value: null, version: entry.version, expiresAt: now + this.tombstoneTtlMs };
    }
    if (stored.expiresAt !== 0 && stored.expiresAt <= now) {
      if (current !== undefined) this.expire(key, current);
      return false;
    }

    const size = entryBytes(key, stored.value);
    if (size > this.budget) {
      throw new CacheError('TOO_LARGE', `entry of key ${JSON.stringify(key.slice(0, 64))} takes ${size} bytes, above the store budget of ${this.budget} bytes`);
    }

    if (current !== undefined && !currentLive) {
      // Reclaim the dead entry first so the write below is a plain insert.
      this.expire(key, current);
      this.insert(key, stored, size);
    } else if (current !== undefined) {
      this.replace(key, current, stored, size);
    } else {
      this.insert(key, stored, size);
    }

    if (this.totalBytes > this.budget) this.evictFor(key, now);
    return true;
  }

  /**
   * Removes `key` physically, whatever its version (used after handing an entry off to its new
   * owner). An expired entry is reclaimed as an expiration and does not count as removed.
   * @returns whether a live entry (value or tombstone) was removed
   */
  delete(key: string): boolean {
    const entry = this.map.get(key);
    if (entry === undefined) return false;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.expire(key, entry);
      return false;
    }
    this.remove(key, entry);
    return true;
  }

  /** A snapshot of the keys held, tombstones and not-yet-reclaimed expired entries included. */
  keys(): string[] {
    return Array.from(this.map.keys());
  }

  /**
   * Iterates the live entries (tombstones included, expired ones skipped) for rebalancing.
   *
   * The iteration runs live over the underlying `Map`, whose iterators the language specifies
   * to tolerate mutation: an entry deleted before the iteration reaches it is skipped, and an
   * entry added meanwhile (a key deleted and re-added included: it moves to the end) is yielded
   * when reached. So a caller may `delete` each key as it hands it off, and writes may
   * interleave across `await`s between steps; each entry is checked against the clock when
   * reached. Yielded pairs are fresh arrays, the entries the stored objects (do not mutate them).
   */
  *entries(): IterableIterator<[string, StoredEntry]> {
    // The Map iterator's own [key, entry] pair is yielded: no second allocation per step.
    for (const pair of this.map) {
      const expiresAt = pair[1].expiresAt;
      if (expiresAt !== 0 && expiresAt <= this.now()) continue;
      yield pair;
    }
  }

  /**
   * Removes expired entries (values and tombstones) in expiry order until nothing more is due,
   * `budgetMs` of wall time (measured with `performance.now()`) is spent, or `maxItems` entries
   * are removed. The clock is checked every {@link SWEEP_CHUNK} items, so a call can overrun its
   * budget by the time of one chunk (well under a millisecond), plus what V8 spends inside one
   * delete: a `Map` that shrinks to a quarter of its capacity is rehashed in one go (measured
   * ~16 ms at 262,144 entries, and the store and the LRU policy each shrink one on the same
   * delete), as is a major GC. Returns at once when nothing is due, unless the expiry index is
   * compacting: the remaining budget then goes to that compaction.
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
      const keys = this.expiry.popExpired(now, Math.min(SWEEP_CHUNK, maxItems - removed));
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        // Defensive: popExpired only returns keys whose entry holds the popped time.
        const entry = this.map.get(key);
        if (entry === undefined) continue;
        this.removeEntry(key, entry);
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
      entries: this.map.size,
      values: this.valueCount,
      tombstones: this.map.size - this.valueCount,
      bytes: this.totalBytes,
      maxBytes: this.budget,
      evictions: this.evictions,
      expirations: this.expirations,
    };
  }

  /** Removes every entry and resets the counters. A running sweeper keeps running. */
  clear(): void {
    this.map.clear();
    this.policy.clear();
    this.expiry.clear();
    this.totalBytes = 0;
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

  private insert(key: string, entry: StoredEntry, size: number): void {
    this.map.set(key, entry);
    this.totalBytes += size;
    if (entry.value !== null) this.valueCount += 1;
    if (entry.expiresAt !== 0) this.expiry.add(key, entry.expiresAt);
    this.policy.onInsert(key);
  }

  private replace(key: string, old: StoredEntry, entry: StoredEntry, size: number): void {
    this.map.set(key, entry);
    this.totalBytes += size - entryBytes(key, old.value);
    this.valueCount += (entry.value !== null ? 1 : 0) - (old.value !== null ? 1 : 0);
    // The index is told after the map changed: a compaction triggered by discard() must see the new time.
    if (entry.expiresAt !== old.expiresAt) {
      if (old.expiresAt !== 0) this.expiry.discard();
      if (entry.expiresAt !== 0) this.expiry.add(key, entry.expiresAt);
    }
    this.policy.onAccess(key);
  }

  /** Removes an entry that is not being popped from the expiry index (its item goes stale). */
  private remove(key: string, entry: StoredEntry): void {
    this.removeEntry(key, entry);
    if (entry.expiresAt !== 0) this.expiry.discard();
  }

  /** Removes an entry from the map, the byte count and the policy; the expiry index is the caller's business. */
  private removeEntry(key: string, entry: StoredEntry): void {
    this.map.delete(key);
    this.totalBytes -= entryBytes(key, entry.value);
    if (entry.value !== null) this.valueCount -= 1;
    this.policy.onRemove(key);
  }

  private expire(key: string, entry: StoredEntry): void {
    this.remove(key, entry);
    this.expirations += 1;
  }

  /**
   * Evicts the policy's victims until the store is within budget, sparing `written`.
   * @throws CacheError INTERNAL when the policy names the written key or a key the store does
   *   not hold (a policy bug; looping on would never end)
   */
  private evictFor(written: string, now: number): void {
    while (this.totalBytes > this.budget) {
      const victim = this.policy.victim();
      const entry = victim === undefined ? undefined : this.map.get(victim);
      if (victim === undefined || victim === written || entry === undefined) {
        throw new CacheError('INTERNAL', `eviction policy named ${victim === undefined ? 'no key' : JSON.stringify(victim)} as victim while over budget`);
      }
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
        // Dead already: reclaiming it is an expiration, not a loss of live data.
        this.expire(victim, entry);
      } else {
        this.remove(victim, entry);
        this.evictions += 1;
      }
    }
  }
}
