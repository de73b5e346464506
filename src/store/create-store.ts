/**
 * `createStore`: a bounded in-memory key-value store with a pluggable eviction policy, usable
 * without a peer (the hit-ratio benchmark replays traces through it) and the engine under the
 * peer's `LocalStore`.
 *
 * Layout, chosen for throughput (the target is at least 0.8x `lru-cache` v11 on a trace replay)
 * and for bounded pauses: one `Map` from key to an integer slot; the slot's key, value, size in
 * bytes and expiry time in parallel paged columns (`slot-columns.ts`: typed arrays for the
 * numbers, pages of 65,536 slots, so that growing never copies more than a page); freed slots on
 * a stack. The policy ({@link SlotPolicy}) keeps its own state in columns indexed by slot, so a
 * hit is one `Map` lookup plus a few array writes and nothing is allocated per operation. The
 * paging costs 15-20% of the replay throughput (0.75x `lru-cache` on average, below the target)
 * and bought writes that never stall on growth: flat arrays that doubled held one write for
 * 0.9 s at two million entries. TTL costs nothing for
 * a store with no TTL entry: the clock is read only while some entry has one.
 *
 * Keys are strings or numbers (numbers are faster: V8 hashes a small integer without touching a
 * string). `1` and `'1'` are different keys.
 */
import { CacheError } from '../errors.js';
import { LfuPolicy } from './lfu-policy.js';
import { LruPolicy } from './lru-policy.js';
import { NoEvictionPolicy } from './no-eviction-policy.js';
import { S3FifoPolicy } from './s3-fifo-policy.js';
import { EVICTION_POLICIES, isEvictionPolicyName, type EvictionPolicyName, type SlotPolicy } from './slot-policy.js';
import { WTinyLfuPolicy } from './w-tinylfu-policy.js';
import { Float64Column, Int32Column, SLOT_PAGE_SLOTS, ValueColumn } from './slot-columns.js';

export { EVICTION_POLICIES, type EvictionPolicyName } from './slot-policy.js';

/**
 * The policy used when none is named: S3-FIFO, chosen from replays of the four traces in
 * `../shared/traces` (get, then set on a miss) at the sizes of its README. With a 25% small
 * queue (see `S3_FIFO_SMALL_RATIO`) it gains 3.2 points on `lru-cache` on average (OLTP +1.4 to
 * +7.4, scarab +0.2, gli up to +18), loses at most 0.32 (ibm-docker at 10%) and is above
 * Caffeine's published adaptive W-TinyLFU on OLTP at 1%, 3% and 10%; our W-TinyLFU with the
 * adaptive window lost 4.4 on scarab and 4.7 on OLTP at 10%, LFU lost on most traces.
 */
export const DEFAULT_EVICTION_POLICY: EvictionPolicyName = 's3-fifo';

/** A store key. Numbers and strings are distinct keys (`1` is not `'1'`). */
export type StoreKey = string | number;

/**
 * Fixed cost charged per entry beyond its key and value, in bytes: an estimate of the `Map`
 * slot (~30), the slot's places in the key, value, size, expiry and free-slot arrays (~36) and
 * the policy's per-slot arrays (~30).
 */
export const STORE_ENTRY_OVERHEAD_BYTES = 96;

/** Options of {@link createStore}. */
export interface StoreOptions {
  /** Eviction policy. Default {@link DEFAULT_EVICTION_POLICY}. */
  policy?: EvictionPolicyName;
  /** Most entries held. A positive integer. At least one of `maxEntries` and `maxBytes` is required. */
  maxEntries?: number;
  /** Most bytes held, as charged by {@link entrySize}. A positive number. */
  maxBytes?: number;
  /** Clock in ms (for TTLs). Default `Date.now`. */
  now?: () => number;
  /**
   * Active expiry: every `sweepIntervalMs` ms, {@link Store.sweepExpired} reclaims expired
   * entries in slices of at most `sweepBudgetMs`, one after the other on `setImmediate` while
   * expired entries remain (so I/O runs between them). A positive integer; omitted = no active
   * expiry: an expired entry is never returned, but its memory is reclaimed only when a read or
   * a write meets it, when the policy evicts it, or when the owner calls `sweepExpired`. The
   * timers are unref'd; {@link Store.close} clears them.
   */
  sweepIntervalMs?: number;
  /** Longest slice of the active expiry, in ms. A positive number. Default {@link DEFAULT_SWEEP_BUDGET_MS}. */
  sweepBudgetMs?: number;
  /**
   * Number of `Map`s the key index is split into, by key hash: a power of two from 1 to 1024.
   * Default 1, or {@link EXPIRING_INDEX_SHARDS} when `sweepIntervalMs` is given. Splitting bounds
   * the pause of one delete: V8 rebuilds a `Map` in one go when deletes leave it under a quarter
   * full, which at a million keys took 16-25 ms, so a store that may lose most of a large
   * population at once (a mass expiry) should split its index (LocalStore uses
   * {@link EXPIRING_INDEX_SHARDS}). The price is a key hash per lookup.
   */
  indexShards?: number;
}

/** Default {@link StoreOptions.sweepBudgetMs}, in ms. */
export const DEFAULT_SWEEP_BUDGET_MS = 2;

/** Counters of a store. */
export interface StoreStats {
  /** Reads that found a live entry. */
  hits: number;
  /** Reads that found nothing (or an expired entry). */
  misses: number;
  /** Entries removed to stay within the bounds (admission rejections of a new key included). */
  evictions: number;
  /** Entries removed because their TTL ran out (on a read, a write or as an eviction victim). */
  expirations: number;
  /** Writes refused: by the `none` policy when full, or an entry larger than `maxBytes`. */
  rejections: number;
  /** Entries held. */
  entries: number;
  /** Bytes charged. */
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  policy: EvictionPolicyName;
}

/** The store {@link createStore} returns. */
export interface Store<V = unknown> {
  readonly policy: EvictionPolicyName;
  /** The live value of `key`, or undefined (an expired entry is removed, never returned). Counts a hit or a miss. */
  get(key: StoreKey): V | undefined;
  /**
   * Stores `value` under `key`, replacing any value, then evicts until within bounds.
   * @param ttlMs lifetime in ms (a positive number); omitted or 0 = no expiry
   * @returns true when `key` holds `value` afterwards; false when the write was refused (`none`
   *   policy and no room, or an entry larger than `maxBytes`: the store is then unchanged) or the
   *   policy rejected the new key at once (W-TinyLFU admission, S3-FIFO with a tiny small queue)
   * @throws CacheError BAD_REQUEST when `ttlMs` is negative or not a number
   */
  set(key: StoreKey, value: V, ttlMs?: number): boolean;
  /** Removes `key`; true when a live entry was removed. */
  delete(key: StoreKey): boolean;
  /** True when `key` has a live entry. Not a use for the policy, not counted as a hit or miss. */
  has(key: StoreKey): boolean;
  /** Entries held (expired entries not yet reclaimed included). */
  readonly size: number;
  /** Bytes charged: the sum of {@link entrySize} over the entries. */
  readonly bytes: number;
  stats(): StoreStats;
  /** Removes every entry and resets the counters. */
  clear(): void;
  /**
   * Reclaims expired entries, scanning the store's slots from where the previous call stopped,
   * for at most about `budgetMs` (the clock is read every 32 removals and every 4,096 slots).
   * The active expiry of {@link StoreOptions.sweepIntervalMs} calls it; it can also be called
   * directly. Free when no entry has a TTL.
   * @param budgetMs time budget in ms
   * @returns the number of entries removed
   */
  sweepExpired(budgetMs: number): number;
  /** Stops the active expiry, if any (clears its timers). The store stays usable. */
  close(): void;
}

/**
 * The byte size charged for a value: strings 2 bytes per UTF-16 code unit, numbers, booleans and
 * bigints 8, null and undefined 0, anything else twice the length of its JSON text (0 when it
 * has none, e.g. a function). An estimate, not V8's exact layout.
 */
export function valueBytes(value: unknown): number {
  // Strings first and the rest out of line: this runs on every write, and a small function is
  // inlined into the store's write path.
  return typeof value === 'string' ? 2 * value.length : nonStringValueBytes(value);
}

function nonStringValueBytes(value: unknown): number {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return 8;
    case 'undefined':
      return 0;
    default: {
      if (value === null) return 0;
      const json = JSON.stringify(value) as string | undefined;
      return json === undefined ? 0 : 2 * json.length;
    }
  }
}

/** The bytes charged for one entry: {@link STORE_ENTRY_OVERHEAD_BYTES} + key (2 per code unit, or 8 for a number) + {@link valueBytes}. */
export function entrySize(key: StoreKey, value: unknown): number {
  return STORE_ENTRY_OVERHEAD_BYTES + (typeof key === 'number' ? 8 : 2 * key.length) + valueBytes(value);
}

/**
 * A 32-bit hash of a key for the policies' sketches and ghost queues: FNV-1a over every
 * character of a string, a multiply-xorshift mix for numbers.
 *
 * Every character, though `charCodeAt` costs V8 about 2.5 ns each and this runs on every insert
 * (a fifth of the replay time on ibm-docker's ~37-character keys): hashing a sample of 16
 * characters was measured 10% faster there, but on keys that differ only in the middle
 * (`user:0171821:profile`, Zipf over 200,000 ids) it put thousands of keys on each hash, which
 * flooded S3-FIFO's ghost and W-TinyLFU's sketch and cost both 4-5 points of hit ratio.
 */
export function storeKeyHash(key: StoreKey): number {
  return typeof key === 'number' ? numberKeyHash(key) : stringKeyHash(key);
}

function numberKeyHash(key: number): number {
  let h = (key | 0) ^ Math.imul((key / 4294967296) | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

function stringKeyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return h ^ (h >>> 15);
}

/**
 * A policy by name for a store of `capacity` weight units over `slots` initial slots.
 * @param entryCapacity the capacity in entries when bounded by entries (sizes sketches and ghosts)
 */
export function createPolicy(name: EvictionPolicyName, capacity: number, slots: number, entryCapacity?: number): SlotPolicy {
  switch (name) {
    case 'lru':
      return new LruPolicy(slots);
    case 'lfu':
      return new LfuPolicy(slots);
    case 's3-fifo':
      return new S3FifoPolicy(capacity, slots, entryCapacity);
    case 'w-tinylfu':
      return new WTinyLfuPolicy(capacity, slots, entryCapacity);
    case 'none':
      return new NoEvictionPolicy();
  }
}

/** Options of the engine, {@link SlotStore}: those of {@link createStore}, the same defaults. */
export type SlotStoreOptions = StoreOptions;

/**
 * The index split a store whose entries may expire en masse uses (see
 * {@link StoreOptions.indexShards}): with 64 maps, emptying a million-key store never rebuilds
 * a map of more than about 4,000 live keys at a time.
 */
export const EXPIRING_INDEX_SHARDS = 64;

/**
 * The engine: entries in slots, a policy, bounds in entries and bytes. {@link createStore}
 * returns one; `LocalStore` drives one through {@link SlotStore.put}, {@link SlotStore.slotOf},
 * {@link SlotStore.removeSlot} and {@link SlotStore.onEvict}.
 */
export class SlotStore<V = unknown> implements Store<V> {
  readonly policy: EvictionPolicyName;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /**
   * Called with each entry evicted (not expired) just after it left the index, for `LocalStore`'s
   * bookkeeping; `slot` is the slot it held, not reused before the callback returns (so columns
   * a caller keeps per slot still hold the victim's fields).
   */
  onEvict: ((key: StoreKey, value: V, expiresAt: number, slot: number) => void) | undefined = undefined;
  /** The slot of the entry the last {@link put} wrote (meaningful when it returned 'stored'). */
  lastSlot = -1;
  /** Key -> slot: the whole index, or its first shard when it is split. */
  private readonly map = new Map<StoreKey, number>();
  /** The index's shards when split (`map` is the first), else null; see {@link StoreOptions.indexShards}. */
  private readonly shards: Map<StoreKey, number>[] | null;
  private readonly shardMask: number;
  /** Entries held (the sum of the shards' sizes). */
  private count = 0;
  /** Slot -> key. The per-slot columns are paged (`slot-columns.ts`): adding slots copies none of them. */
  private readonly keys: ValueColumn<StoreKey>;
  private readonly values: ValueColumn<V>;
  private readonly sizes: Float64Column;
  /**
   * Slot -> expiry (ms since the epoch, 0 = none). Made on the first write with a TTL: a store
   * whose entries never have one (the peer's `LocalStore` keeps expiries in its own columns) pays
   * neither its 8 bytes per slot nor its writes. Read through {@link expiryAt}.
   */
  private expires: Float64Column | null = null;
  /**
   * Freed slots, a stack in a column as long as the others (it can never hold more): a
   * `number[]` here grew by copying while a mass expiry freed slots, 5-12 ms at a time at half a
   * million.
   */
  private readonly free: Int32Column;
  private freeCount = 0;
  private nextSlot = 0;
  private slots: number;
  private readonly impl: SlotPolicy;
  /**
   * The policy again when it is the default S3-FIFO, else null. The hot paths call it through
   * this field: a call site that only ever sees one class is inlined by V8, while `impl` sees
   * every policy class once a process has used several (a megamorphic call on every request).
   */
  private readonly s3: S3FifoPolicy | null;
  private readonly byEntries: boolean;
  private readonly refuse: boolean;
  private readonly now: () => number;
  /**
   * The key of the last `get` that missed, while no entry was added since: known absent, so the
   * `set` that usually follows a miss skips its own `Map` lookup. A one-entry negative cache;
   * `undefined` when there is none. Whatever adds a key to `map` must reset it (only `put` does).
   */
  private missedKey: StoreKey | undefined = undefined;
  private totalBytes = 0;
  private ttlCount = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private expirations = 0;
  private rejections = 0;
  /** The slot {@link sweepExpired} looks at next. */
  private sweepCursor = 0;
  private sweepTimer: NodeJS.Timeout | undefined = undefined;
  private sweepImmediate: NodeJS.Immediate | undefined = undefined;
  private readonly sweepBudgetMs: number;

  /** @throws CacheError BAD_CONFIG on an unknown policy, missing/invalid bounds or invalid sweep/index options */
  constructor(options: SlotStoreOptions) {
    const policy = options.policy ?? DEFAULT_EVICTION_POLICY;
    if (!isEvictionPolicyName(policy)) {
      throw new CacheError('BAD_CONFIG', `policy: expected one of ${EVICTION_POLICIES.join(', ')}, got ${String(policy)}`);
    }
    const { maxEntries, maxBytes } = options;
    if (maxEntries === undefined && maxBytes === undefined) throw new CacheError('BAD_CONFIG', 'createStore: maxEntries or maxBytes is required');
    if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries > 0)) {
      throw new CacheError('BAD_CONFIG', `maxEntries: expected a positive integer, got ${maxEntries}`);
    }
    if (maxBytes !== undefined && !(maxBytes > 0)) throw new CacheError('BAD_CONFIG', `maxBytes: expected a positive number, got ${maxBytes}`);
    const { sweepIntervalMs, sweepBudgetMs } = options;
    if (sweepIntervalMs !== undefined && !(Number.isInteger(sweepIntervalMs) && sweepIntervalMs > 0)) {
      throw new CacheError('BAD_CONFIG', `sweepIntervalMs: expected a positive integer, got ${sweepIntervalMs}`);
    }
    if (sweepBudgetMs !== undefined && !(sweepBudgetMs > 0)) throw new CacheError('BAD_CONFIG', `sweepBudgetMs: expected a positive number, got ${sweepBudgetMs}`);
    this.sweepBudgetMs = sweepBudgetMs ?? DEFAULT_SWEEP_BUDGET_MS;
    const shards = options.indexShards ?? (sweepIntervalMs !== undefined ? EXPIRING_INDEX_SHARDS : 1);
    if (!(Number.isInteger(shards) && shards >= 1 && shards <= 1024 && (shards & (shards - 1)) === 0)) {
      throw new CacheError('BAD_CONFIG', `indexShards: expected a power of two from 1 to 1024, got ${shards}`);
    }
    this.shards = shards === 1 ? null : [this.map, ...Array.from({ length: shards - 1 }, () => new Map<StoreKey, number>())];
    this.shardMask = shards - 1;
    this.policy = policy;
    this.maxEntries = maxEntries ?? Infinity;
    this.maxBytes = maxBytes ?? Infinity;
    this.byEntries = maxEntries !== undefined;
    this.refuse = policy === 'none';
    this.now = options.now ?? Date.now;
    // One spare slot: a new entry is inserted before the policy picks what leaves.
    this.slots = maxEntries !== undefined ? Math.min(maxEntries + 1, SLOT_PAGE_SLOTS) : 1024;
    this.keys = new ValueColumn<StoreKey>(undefined as unknown as StoreKey, this.slots);
    this.values = new ValueColumn<V>(undefined as V, this.slots);
    this.free = new Int32Column(0, this.slots);
    this.sizes = new Float64Column(0, this.slots);
    const capacity = this.byEntries ? this.maxEntries : this.maxBytes;
    this.impl = createPolicy(policy, capacity, this.slots, maxEntries);
    this.s3 = this.impl instanceof S3FifoPolicy ? this.impl : null;
    if (sweepIntervalMs !== undefined) {
      this.sweepTimer = setInterval(this.onSweepTick, sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  sweepExpired(budgetMs: number): number {
    if (this.ttlCount === 0) return 0;
    const now = this.now();
    const start = performance.now();
    const end = this.nextSlot;
    const expires = this.expires!;
    let cursor = this.sweepCursor;
    let removed = 0;
    for (let scanned = 1; scanned <= end; scanned++) {
      if (cursor >= end) cursor = 0;
      const e = expires.get(cursor);
      if (e !== 0 && e <= now) {
        this.expireSlot(cursor);
        removed += 1;
        if (this.ttlCount === 0 || ((removed & 31) === 0 && performance.now() - start >= budgetMs)) {
          cursor += 1;
          break;
        }
      }
      cursor += 1;
      if ((scanned & 4095) === 0 && performance.now() - start >= budgetMs) break;
    }
    this.sweepCursor = cursor;
    return removed;
  }

  close(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.sweepImmediate !== undefined) clearImmediate(this.sweepImmediate);
    this.sweepTimer = undefined;
    this.sweepImmediate = undefined;
  }

  private readonly onSweepTick = (): void => {
    // A run of slices still going covers this tick.
    if (this.sweepImmediate === undefined) this.runSweepSlice();
  };

  /**
   * One slice, then another on `setImmediate` while slices remove entries and some TTL'd entry
   * remains; a slice that removed nothing leaves the rest to the next tick.
   */
  private readonly runSweepSlice = (): void => {
    this.sweepImmediate = undefined;
    const removed = this.sweepExpired(this.sweepBudgetMs);
    if (removed > 0 && this.ttlCount !== 0 && this.sweepTimer !== undefined) {
      this.sweepImmediate = setImmediate(this.runSweepSlice);
      this.sweepImmediate.unref();
    }
  };

  get size(): number {
    return this.count;
  }

  /** The map of the index that holds `key` (the only one unless the index is split). */
  private indexFor(key: StoreKey): Map<StoreKey, number> {
    return this.shards === null ? this.map : this.shards[storeKeyHash(key) & this.shardMask]!;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: StoreKey): V | undefined {
    const slot = this.indexFor(key).get(key);
    if (slot === undefined) {
      this.misses += 1;
      this.missedKey = key;
      return undefined;
    }
    if (this.ttlCount !== 0 && this.reclaimIfExpired(slot)) {
      this.misses += 1;
      this.missedKey = key;
      return undefined;
    }
    this.hits += 1;
    const s3 = this.s3;
    if (s3 !== null) s3.onHit(slot);
    else this.impl.onHit(slot);
    return this.values.get(slot);
  }

  /** The expiry of the entry in `slot` (0 = none). */
  private expiryAt(slot: number): number {
    return this.expires === null ? 0 : this.expires.get(slot);
  }

  /** The expiry column, made (all zeros, as long as the other columns) on first use. */
  private expiryColumn(): Float64Column {
    return (this.expires ??= new Float64Column(0, this.slots));
  }

  /** Reclaims the entry in `slot` when it has expired; true when it did. Out of line: `get` stays small enough to be inlined. */
  private reclaimIfExpired(slot: number): boolean {
    const e = this.expiryAt(slot);
    if (e === 0 || e > this.now()) return false;
    this.expireSlot(slot);
    return true;
  }

  set(key: StoreKey, value: V, ttlMs?: number): boolean {
    const expiresAt = ttlMs === undefined || ttlMs === 0 ? 0 : this.expiryFor(ttlMs);
    return this.put(key, value, entrySize(key, value), expiresAt) === 'stored';
  }

  /**
   * The expiry time of an entry written now with a lifetime of `ttlMs`.
   * @throws CacheError BAD_REQUEST when `ttlMs` is negative or not a number
   */
  private expiryFor(ttlMs: number): number {
    if (!(ttlMs > 0)) throw new CacheError('BAD_REQUEST', `ttlMs: expected a positive number of ms, got ${ttlMs}`);
    return this.now() + ttlMs;
  }

  /**
   * Writes an entry with a size the caller computed; evicts until within bounds.
   * @param expiresAt ms on the store's clock; 0 = never
   * @returns 'stored'; 'refused' when it cannot fit (too large, or `none` with no room; nothing
   *   changed); 'evicted' when the policy evicted it at once (admission rejection)
   */
  put(key: StoreKey, value: V, size: number, expiresAt: number): 'stored' | 'refused' | 'evicted' {
    // The common case (a new key, written after its `get` missed) is kept short, its rare branches
    // in functions of their own: V8 inlines a caller's callees only within a bytecode budget, and
    // the calls it does not inline were a tenth of the time of a trace replay.
    if (size > this.maxBytes) return this.refuseWrite();
    const existing = key === this.missedKey ? undefined : this.indexFor(key).get(key);
    if (existing !== undefined) return this.overwrite(existing, value, size, expiresAt);
    if (this.refuse && !this.roomFor(size)) return this.refuseWrite();
    this.missedKey = undefined;
    const s3 = this.s3;
    // S3-FIFO makes room before it inserts (the paper's order) when bounded by entries: the new
    // entry is never the victim, and it takes the victim's slot (no trip through the free list).
    const slot = s3 !== null && this.byEntries && this.count >= this.maxEntries ? this.vacate(s3.evict()) : this.allocSlot();
    this.keys.set(slot, key);
    this.values.set(slot, value);
    this.sizes.set(slot, size);
    if (expiresAt !== 0 || this.expires !== null) this.expiryColumn().set(slot, expiresAt);
    this.lastSlot = slot;
    if (expiresAt !== 0) this.ttlCount += 1;
    this.indexFor(key).set(key, slot);
    this.count += 1;
    this.totalBytes += size;
    const hash = storeKeyHash(key);
    if (s3 !== null) s3.onInsert(slot, hash, this.byEntries ? 1 : size);
    else this.impl.onInsert(slot, hash, this.byEntries ? 1 : size);
    return this.count <= this.maxEntries && this.totalBytes <= this.maxBytes ? 'stored' : this.evictOver(slot);
  }

  /** Counts a refused write. */
  private refuseWrite(): 'refused' {
    this.rejections += 1;
    return 'refused';
  }

  /** True when a new entry of `size` bytes fits without evicting (for the `none` policy). */
  private roomFor(size: number): boolean {
    return this.count < this.maxEntries && this.totalBytes + size <= this.maxBytes;
  }

  /** `put` of a key the store holds, in `slot`. */
  private overwrite(slot: number, value: V, size: number, expiresAt: number): 'stored' | 'refused' | 'evicted' {
    const old = this.sizes.get(slot);
    if (this.refuse && this.totalBytes - old + size > this.maxBytes) return this.refuseWrite();
    this.lastSlot = slot;
    this.values.set(slot, value);
    this.sizes.set(slot, size);
    this.totalBytes += size - old;
    const oldExpiry = this.expiryAt(slot);
    if (oldExpiry !== expiresAt) {
      this.ttlCount += (expiresAt !== 0 ? 1 : 0) - (oldExpiry !== 0 ? 1 : 0);
      this.expiryColumn().set(slot, expiresAt);
    }
    if (this.byEntries) this.impl.onUpdate(slot, 1, 1);
    else this.impl.onUpdate(slot, old, size);
    if (this.count <= this.maxEntries && this.totalBytes <= this.maxBytes) return 'stored';
    return this.evictOver(slot);
  }

  /**
   * Evicts until within bounds, after a write to `slot`.
   * @returns 'evicted' when `slot` itself was a victim, else 'stored'
   * @throws CacheError INTERNAL when the policy names no victim while over bounds (a bug)
   */
  private evictOver(slot: number): 'stored' | 'evicted' {
    let stored = true;
    while (this.count > this.maxEntries || this.totalBytes > this.maxBytes) {
      const s3 = this.s3;
      const victim = s3 !== null ? s3.evict() : this.impl.evict();
      if (victim === -1) this.noVictim();
      if (victim === slot) stored = false;
      this.evictSlot(victim);
    }
    return stored ? 'stored' : 'evicted';
  }

  delete(key: StoreKey): boolean {
    const slot = this.indexFor(key).get(key);
    if (slot === undefined) return false;
    const e = this.expiryAt(slot);
    if (e !== 0 && e <= this.now()) {
      this.expireSlot(slot);
      return false;
    }
    this.impl.onRemove(slot);
    this.release(slot);
    return true;
  }

  has(key: StoreKey): boolean {
    return this.slotOf(key) !== -1;
  }

  /** The slot of `key`'s live entry, or -1 (an expired entry is reclaimed). Not a use for the policy. */
  slotOf(key: StoreKey): number {
    const slot = this.indexFor(key).get(key);
    if (slot === undefined) return -1;
    // Only a store holding entries with a TTL reads the expiry column (LocalStore keeps its own).
    if (this.ttlCount !== 0 && this.reclaimIfExpired(slot)) return -1;
    return slot;
  }

  /** The value in a slot returned by {@link slotOf}. */
  valueAt(slot: number): V {
    return this.values.get(slot);
  }

  /** The size `put` was given for the entry in a slot returned by {@link slotOf}. */
  sizeAt(slot: number): number {
    return this.sizes.get(slot);
  }

  /** Records a use of the entry in `slot` for the policy (not counted as a hit). */
  touch(slot: number): void {
    this.impl.onHit(slot);
  }

  /** Removes the entry in `slot` (a delete, not an eviction or expiration). */
  removeSlot(slot: number): void {
    this.impl.onRemove(slot);
    this.release(slot);
  }

  /** Removes the entry in `slot` as an expiration. */
  expireSlot(slot: number): void {
    this.impl.onRemove(slot);
    this.release(slot);
    this.expirations += 1;
  }

  /**
   * Iterates `[key, slot]` over the entries held, expired ones included: the live iterators of
   * the key index's `Map`s, one after the other (an entry added to a `Map` already iterated past
   * is not met).
   */
  slotEntries(): IterableIterator<[StoreKey, number]> {
    return this.shards === null ? this.map.entries() : chainedEntries(this.shards);
  }

  stats(): StoreStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      rejections: this.rejections,
      entries: this.count,
      bytes: this.totalBytes,
      maxEntries: this.maxEntries,
      maxBytes: this.maxBytes,
      policy: this.policy,
    };
  }

  clear(): void {
    if (this.shards === null) this.map.clear();
    else for (const shard of this.shards) shard.clear();
    this.count = 0;
    this.missedKey = undefined;
    this.keys.fill(undefined as unknown as StoreKey);
    this.values.fill(undefined as V);
    this.sizes.fill(0);
    this.expires?.fill(0);
    this.freeCount = 0;
    this.nextSlot = 0;
    this.sweepCursor = 0;
    this.impl.clear();
    this.totalBytes = 0;
    this.ttlCount = 0;
    this.hits = 0;
    this.misses = 0;
    this.evictions = 0;
    this.expirations = 0;
    this.rejections = 0;
  }

  private allocSlot(): number {
    if (this.freeCount > 0) return this.free.get(--this.freeCount);
    if (this.nextSlot === this.slots) {
      // Doubling up to a page, then a page at a time: no growth copies more than one page.
      const slots = Math.min(this.slots < SLOT_PAGE_SLOTS ? Math.min(this.slots * 2, SLOT_PAGE_SLOTS) : this.slots + SLOT_PAGE_SLOTS, this.maxEntries + 1);
      this.sizes.grow(slots);
      this.expires?.grow(slots);
      this.free.grow(slots);
      this.keys.grow(slots);
      this.values.grow(slots);
      this.impl.grow(slots);
      this.slots = slots;
    }
    return this.nextSlot++;
  }

  /**
   * Empties `slot`, which the policy just evicted, for the caller to refill at once: the entry
   * leaves the index and the byte count and is counted as an eviction (or an expiration), but the
   * slot is not put on the free list.
   * @returns `slot`
   * @throws CacheError INTERNAL when `slot` is -1 (the policy named no victim in a full store: a bug)
   */
  private vacate(slot: number): number {
    if (slot === -1) this.noVictim();
    const key = this.keys.get(slot);
    this.indexFor(key).delete(key);
    this.count -= 1;
    this.totalBytes -= this.sizes.get(slot);
    const e = this.expiryAt(slot);
    if (e === 0) {
      this.evictions += 1;
      if (this.onEvict !== undefined) this.onEvict(key, this.values.get(slot), 0, slot);
    } else {
      this.vacateTimed(slot, key, e);
    }
    return slot;
  }

  /** The rest of {@link vacate} for an entry with a TTL. */
  private vacateTimed(slot: number, key: StoreKey, expiresAt: number): void {
    this.ttlCount -= 1;
    if (expiresAt <= this.now()) {
      this.expirations += 1;
    } else {
      this.evictions += 1;
      if (this.onEvict !== undefined) this.onEvict(key, this.values.get(slot), expiresAt, slot);
    }
  }

  /** @throws CacheError INTERNAL always: the policy named no victim while the store is over its bounds (a bug) */
  private noVictim(): never {
    throw new CacheError('INTERNAL', `eviction policy ${this.policy} named no victim while over bounds`);
  }

  private evictSlot(slot: number): void {
    const key = this.keys.get(slot);
    const value = this.values.get(slot);
    const e = this.expiryAt(slot);
    this.release(slot);
    if (e !== 0 && e <= this.now()) {
      this.expirations += 1;
    } else {
      this.evictions += 1;
      if (this.onEvict !== undefined) this.onEvict(key, value, e, slot);
    }
  }

  /** Frees a slot the policy no longer tracks. */
  private release(slot: number): void {
    const key = this.keys.get(slot);
    this.indexFor(key).delete(key);
    this.count -= 1;
    this.totalBytes -= this.sizes.get(slot);
    if (this.expiryAt(slot) !== 0) {
      this.ttlCount -= 1;
      this.expires!.set(slot, 0);
    }
    this.keys.set(slot, undefined as unknown as StoreKey);
    this.values.set(slot, undefined as V);
    this.free.set(this.freeCount++, slot);
  }
}

/** The entries of every shard of a split index, one shard after the other. */
function* chainedEntries(shards: readonly Map<StoreKey, number>[]): IterableIterator<[StoreKey, number]> {
  for (const shard of shards) yield* shard.entries();
}

/**
 * Creates a bounded store; see {@link Store} for the operations and {@link StoreOptions}.
 * @throws CacheError BAD_CONFIG when neither `maxEntries` nor `maxBytes` is given, a bound is
 *   not positive, or the policy is unknown
 */
export function createStore<V = unknown>(options: StoreOptions): Store<V> {
  return new SlotStore<V>(options);
}
