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
 * - Layout: an entry is not kept as an object. Its value's bytes (UTF-8 JSON text) live outside
 *   the V8 heap in a {@link ValueSlab} cell, whose handle is the entry's value in the engine's
 *   slot (a tombstone's is {@link TOMBSTONE}); its version, expiry time and the value's byte
 *   length are in columns indexed by the same slot (typed arrays for the wall time, logical
 *   counter, expiry and length, an array of peer ids). So a stored entry adds no heap object but
 *   its key: no entry object and version tuple (~146 bytes with the boxed wall time), and no
 *   value string for the young-generation GC to copy into the old generation and the
 *   mark-compact to collect there once overwritten (under a stream of SETs, 0.29x the scavenge
 *   time and no mark-compact; see `value-slab.ts`). Reads build a {@link StoredEntry}, and
 *   decode the value, on demand; the GET path reads the value alone ({@link LocalStore.getValue}).
 *
 * The store has no I/O. Time comes from an injected clock, and its only timers are those of the
 * optional expiry sweeper, which {@link LocalStore.stopExpirySweeper} clears.
 */
import { CacheError } from '../errors.js';
import type { Version } from '../hlc.js';
import { entryBytesOfLength, type StoredEntry } from './entry.js';
import { DEFAULT_EVICTION_POLICY, EXPIRING_INDEX_SHARDS, SlotStore, type EvictionPolicyName } from './create-store.js';
import { Float64Column, Int32Column, ValueColumn } from './slot-columns.js';
import { ValueSlab } from './value-slab.js';
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
  /** Bytes of the value slab's pages, outside the V8 heap (see `value-slab.ts`): what the values take, slack and freed cells included. */
  slabBytes: number;
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

/** Most distinct writer ids {@link LocalStore} keeps one shared string for (peer ids: a cluster has a few). */
const MAX_INTERNED_WRITERS = 1024;

/** The engine value of a tombstone (a value's is its non-negative slab handle). */
const TOMBSTONE = -1;

/** Slots the per-slot columns start with; they grow as the engine's slots do (doubling up to a page, then by pages). */
const INITIAL_COLUMN_SLOTS = 1024;

/** A peer's local versioned store. See the module comment for the model. */
export class LocalStore {
  /** The eviction policy in use. */
  readonly policy: EvictionPolicyName;
  /** Key -> slot, recency and eviction; an entry's engine value is its {@link ValueSlab} handle, or {@link TOMBSTONE}. */
  private readonly engine: SlotStore<number>;
  /** The values' bytes, off the V8 heap. */
  private readonly slab = new ValueSlab();
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
  /** Per engine slot: the version's wall time (ms), logical counter and peer id, and the expiry time (ms, 0 = never). */
  private readonly walls = new Float64Column(0, INITIAL_COLUMN_SLOTS);
  private readonly logicals = new Float64Column(0, INITIAL_COLUMN_SLOTS);
  private readonly writers = new ValueColumn<string>('', INITIAL_COLUMN_SLOTS);
  private readonly expiries = new Float64Column(0, INITIAL_COLUMN_SLOTS);
  /** Per engine slot holding a value: its UTF-8 length in bytes times 2, plus 1 when it is ASCII only (see {@link ValueSlab.read}). */
  private readonly valueShapes = new Int32Column(0, INITIAL_COLUMN_SLOTS);
  /** Writer ids met so far, each mapped to the one string the columns hold for it. */
  private readonly writerIds = new Map<string, string>();

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
    this.engine = new SlotStore<number>({ policy: options.policy ?? DEFAULT_EVICTION_POLICY, maxBytes: options.maxBytes, indexShards: EXPIRING_INDEX_SHARDS });
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
   * The returned object is built for the caller (a copy of the stored fields).
   */
  get(key: string): StoredEntry | undefined {
    const slot = this.liveSlot(this.engine.slotOf(key));
    if (slot === -1) return undefined;
    const value = this.valueIn(slot);
    if (value !== null) this.engine.touch(slot);
    return this.entryAt(slot, value);
  }

  /**
   * The value of `key`'s live entry: its JSON text, null for a tombstone, undefined when there is
   * none. Same rules as {@link get} (expired entries reclaimed, a value read counts as an access)
   * without building an entry: the read path of a GET.
   */
  getValue(key: string): string | null | undefined {
    const slot = this.liveSlot(this.engine.slotOf(key));
    if (slot === -1) return undefined;
    const value = this.valueIn(slot);
    if (value !== null) this.engine.touch(slot);
    return value;
  }

  /**
   * Orders `version` against the version of `key`'s live entry (tombstones included), as
   * `compareVersions(version, held.version)` would; undefined when the key holds no live entry.
   * Leaves recency alone and builds no entry (the owner's write path asks this of every write).
   */
  compareWithHeld(key: string, version: Version): number | undefined {
    const slot = this.liveSlot(this.engine.slotOf(key));
    return slot === -1 ? undefined : this.compareToSlot(version, slot);
  }

  /** Like {@link get} but leaves the eviction policy's recency alone. */
  peek(key: string): StoredEntry | undefined {
    const slot = this.liveSlot(this.engine.slotOf(key));
    return slot === -1 ? undefined : this.entryAt(slot, this.valueIn(slot));
  }

  /** `slot` (-1 = none) unless its entry has expired, in which case it is reclaimed and -1 returned. */
  private liveSlot(slot: number): number {
    if (slot === -1) return -1;
    // Only entries with a TTL pay for a clock read.
    const expiresAt = this.expiries.get(slot);
    if (expiresAt !== 0 && expiresAt <= this.now()) {
      this.expire(slot);
      return -1;
    }
    return slot;
  }

  /** The value held in `slot`: its JSON text (decoded from the slab), or null for a tombstone. */
  private valueIn(slot: number): string | null {
    const handle = this.engine.valueAt(slot);
    if (handle === TOMBSTONE) return null;
    const shape = this.valueShapes.get(slot);
    return this.slab.read(handle, shape >>> 1, (shape & 1) === 1);
  }

  /** The entry held in `slot`, as an object. */
  private entryAt(slot: number, value: string | null): StoredEntry {
    const version: Version = [this.walls.get(slot), this.logicals.get(slot), this.writers.get(slot)];
    return { value, version, expiresAt: this.expiries.get(slot) };
  }

  /** Orders `version` against the one held in `slot` (as `compareVersions`). */
  private compareToSlot(version: Version, slot: number): number {
    const wall = this.walls.get(slot);
    if (version[0] !== wall) return version[0] - wall;
    const logical = this.logicals.get(slot);
    if (version[1] !== logical) return version[1] - logical;
    const writer = this.writers.get(slot);
    return version[2] < writer ? -1 : version[2] > writer ? 1 : 0;
  }

  /** Writes an entry's version and expiry into the columns of `slot`, growing them first when needed. */
  private writeColumns(slot: number, version: Version, expiresAt: number): void {
    if (slot >= this.walls.length) this.growColumns(slot + 1);
    this.walls.set(slot, version[0]);
    this.logicals.set(slot, version[1]);
    this.writers.set(slot, this.internWriter(version[2]));
    this.expiries.set(slot, expiresAt);
  }

  /**
   * One string per writer id: ids parsed off the wire are fresh strings, one per replicated entry
   * (~32 bytes each) unless replaced by the copy met first. At most {@link MAX_INTERNED_WRITERS}
   * ids are kept (a cluster has a few); past that, ids are stored as given.
   */
  private internWriter(id: string): string {
    const known = this.writerIds.get(id);
    if (known !== undefined) return known;
    if (this.writerIds.size < MAX_INTERNED_WRITERS) this.writerIds.set(id, id);
    return id;
  }

  /** Grows the columns (paged: see `slot-columns.ts`) to hold at least `slots` slots. */
  private growColumns(slots: number): void {
    this.walls.grow(slots);
    this.logicals.grow(slots);
    this.expiries.grow(slots);
    this.writers.grow(slots);
    this.valueShapes.grow(slots);
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
   * The store copies the entry's fields (the value's bytes into its slab, the version's parts into its columns), not the object.
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
    const currentExpiry = slot === -1 ? 0 : this.expiries.get(slot);
    const currentLive = slot !== -1 && (currentExpiry === 0 || currentExpiry > now);
    if (currentLive && this.compareToSlot(entry.version, slot) <= 0) return false;

    const value = entry.value;
    // A tombstone without an expiry lives tombstoneTtlMs (`entry` itself is not changed).
    const expiresAt = value === null && entry.expiresAt === 0 ? now + this.tombstoneTtlMs : entry.expiresAt;
    if (expiresAt !== 0 && expiresAt <= now) {
      if (slot !== -1) this.expire(slot);
      return false;
    }

    // Measured once: the budget's charge and the slab both need the value's UTF-8 length.
    const valueBytes = value === null ? -1 : Buffer.byteLength(value, 'utf8');
    const size = entryBytesOfLength(key, valueBytes);
    if (size > this.budget) {
      throw new CacheError('TOO_LARGE', `entry of key ${JSON.stringify(key.slice(0, 64))} takes ${size} bytes, above the store budget of ${this.budget} bytes`);
    }
    if (this.refuse && !this.fits(slot, size)) {
      if (this.expiry.nextExpiry() <= now) {
        this.sweepExpired(RECLAIM_FOR_WRITE_BUDGET_MS);
        slot = this.engine.slotOf(key);
      }
      if (!this.fits(slot, size)) {
        throw new CacheError('OUT_OF_MEMORY', `store full: entry of key ${JSON.stringify(key.slice(0, 64))} takes ${size} bytes, ${this.engine.bytes} of ${this.budget} bytes are in use and the eviction policy is none`);
      }
    }

    // The entry replaced: none, or a live one (a dead one is reclaimed first, so the write below is a plain insert).
    let oldExpiresAt = 0;
    let oldHandle = TOMBSTONE;
    if (slot !== -1) {
      const oldExpiry = this.expiries.get(slot);
      if (oldExpiry !== 0 && oldExpiry <= now) {
        this.expire(slot);
      } else {
        oldExpiresAt = oldExpiry;
        oldHandle = this.engine.valueAt(slot);
      }
    }

    // The value's bytes: in the replaced value's cell when they fit its size class, else in a new
    // one (the replaced cell is freed once the engine holds the new handle).
    let handle = TOMBSTONE;
    let shape = 0;
    if (value !== null) {
      handle = oldHandle !== TOMBSTONE && this.slab.rewrite(oldHandle, value, valueBytes) ? oldHandle : this.slab.write(value, valueBytes);
      shape = this.slab.lastBytes * 2 + (this.slab.lastAscii ? 1 : 0);
    }

    this.writingKey = key;
    this.writingExpiry = oldExpiresAt === 0 ? undefined : oldExpiresAt;
    this.writtenEvicted = false;
    let result: 'stored' | 'refused' | 'evicted';
    try {
      result = this.engine.put(key, handle, size, 0);
    } finally {
      this.writingKey = undefined;
      this.writingExpiry = undefined;
    }
    if (result === 'refused') {
      // Unreachable: the size and (for `none`) the room were checked above.
      if (handle !== TOMBSTONE && handle !== oldHandle) this.slab.free(handle);
      throw new CacheError('INTERNAL', `the store engine refused an entry of ${size} bytes for key ${JSON.stringify(key.slice(0, 64))}`);
    }
    if (oldHandle !== TOMBSTONE) {
      this.valueCount -= 1;
      if (oldHandle !== handle) this.slab.free(oldHandle);
    }
    if (this.writtenEvicted) {
      // The key holds nothing now: the entry it held left with the write (its cell freed on eviction).
      if (oldExpiresAt !== 0) this.expiry.discard();
      return false;
    }
    this.writeColumns(this.engine.lastSlot, entry.version, expiresAt);
    this.valueShapes.set(this.engine.lastSlot, shape);
    if (value !== null) this.valueCount += 1;
    // The index is told after the engine holds the new entry: a compaction triggered by discard() must see the new time.
    if (expiresAt !== oldExpiresAt) {
      if (oldExpiresAt !== 0) this.expiry.discard();
      if (expiresAt !== 0) this.expiry.add(key, expiresAt);
    }
    return true;
  }

  /**
   * Removes `key` physically, whatever its version (used after handing an entry off to its new
   * owner). An expired entry is reclaimed as an expiration and does not count as removed.
   * @returns whether a live entry (value or tombstone) was removed
   */
  delete(key: string): boolean {
    const slot = this.liveSlot(this.engine.slotOf(key));
    if (slot === -1) return false;
    this.remove(slot);
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
   * and entries are built for the caller.
   */
  *entries(): IterableIterator<[string, StoredEntry]> {
    for (const [key, slot] of this.engine.slotEntries()) {
      const expiresAt = this.expiries.get(slot);
      if (expiresAt !== 0 && expiresAt <= this.now()) continue;
      yield [key as string, this.entryAt(slot, this.valueIn(slot))];
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
        this.removeEntry(slot);
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
      slabBytes: this.slab.reservedBytes,
    };
  }

  /** Removes every entry and resets the counters. A running sweeper keeps running. */
  clear(): void {
    this.engine.clear();
    this.slab.clear();
    this.expiries.fill(0);
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
    const expiresAt = this.expiries.get(slot);
    return expiresAt === 0 ? undefined : expiresAt;
  };

  /**
   * Bookkeeping of an entry the engine evicted (it has already left the engine). An expired
   * victim counts as an expiration, not a loss of live data. The entry being written is
   * settled by `apply` itself.
   */
  private readonly onEngineEvict = (key: string | number, handle: number, _engineExpiry: number, slot: number): void => {
    if (handle !== TOMBSTONE) this.slab.free(handle);
    if (key === this.writingKey) {
      // The entry being written (not expired: apply checked), whose columns are not written yet.
      this.evictions += 1;
      this.writtenEvicted = true;
      return;
    }
    const expiresAt = this.expiries.get(slot);
    if (expiresAt !== 0 && expiresAt <= this.now()) this.expirations += 1;
    else this.evictions += 1;
    if (handle !== TOMBSTONE) this.valueCount -= 1;
    if (expiresAt !== 0) this.expiry.discard();
    this.expiries.set(slot, 0);
  };

  /** True when writing `size` bytes under `key`, replacing the entry in `slot` (-1 = none), keeps the store within `maxBytes`. */
  private fits(slot: number, size: number): boolean {
    const freed = slot === -1 ? 0 : this.engine.sizeAt(slot);
    return this.engine.bytes - freed + size <= this.budget;
  }

  /** Removes an entry that is not being popped from the expiry index (its item goes stale). */
  private remove(slot: number): void {
    const expiresAt = this.expiries.get(slot);
    this.removeEntry(slot);
    if (expiresAt !== 0) this.expiry.discard();
  }

  /** Removes an entry from the engine and the value count; the expiry index is the caller's business. */
  private removeEntry(slot: number): void {
    const handle = this.engine.valueAt(slot);
    if (handle !== TOMBSTONE) {
      this.valueCount -= 1;
      this.slab.free(handle);
    }
    this.engine.removeSlot(slot);
    this.expiries.set(slot, 0);
  }

  private expire(slot: number): void {
    this.remove(slot);
    this.expirations += 1;
  }
}
