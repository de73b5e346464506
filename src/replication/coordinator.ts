/**
 * The data path: runs key operations for clients, wherever the key lives.
 *
 * - A peer that is not the key's primary forwards the operation over the peer link (one hop) and
 *   relays the reply; the operations it forwards to one peer during an event-loop turn share one
 *   `ops` request. If the primary cannot be reached, the next member of the preference list
 *   serves it as acting owner (reads always; writes when the request cannot have run at the
 *   primary, or is idempotent). A `set` forwarded by a member of the key's preference list (a
 *   holder) is left out of the owner's replication: the owner returns the version it stamped and
 *   the holder applies the write itself.
 * - The owner applies a write with a fresh HLC version, sends it to the other members of the
 *   preference list (the replicas) and acknowledges once the required copies hold it:
 *   by default every replica that membership says is alive (`writeAcks` = 0), or `writeAcks`
 *   copies counting its own.
 * - Reads are served by the owner. On a local miss it asks the replicas, keeps the newest
 *   version and writes it back locally (read repair): this is what keeps every key readable
 *   while rebalancing streams entries to a new owner.
 * - Read-modify-write operations (`incr`, `del`, `expire`) run under a per-key lock at the owner,
 *   so `incr` is atomic at the primary.
 *
 * Versions are hybrid logical clock timestamps ({@link HybridLogicalClock}); every copy is applied
 * last-writer-wins, so replication, handoff and repair never overwrite a newer entry with an older.
 * This follows the coordinator design of Amazon Dynamo (DeCandia et al., SOSP 2007), with a
 * primary-first ordering of the preference list instead of quorums.
 */
import type { PeerConfig } from '../config.js';
import { CacheError, toCacheError } from '../errors.js';
import type { HybridLogicalClock, Version } from '../hlc.js';
import { compareVersions, isVersion } from '../hlc.js';
import type { MemberState } from '../membership/member.js';
import type { CacheOp } from '../protocol/client-frames.js';
import type { ForwardedOp, ForwardedResult, OpResult, WireEntry } from '../protocol/peer-frames.js';
import { isForwardedOp } from '../protocol/peer-frames.js';
import type { HashRing } from '../ring/hash-ring.js';
import { hashKey } from '../ring/key-hash.js';
import type { StoredEntry } from '../store/entry.js';
import type { LocalStore } from '../store/local-store.js';
import { LinkUnavailableError } from '../transport/peer-link.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { HintedHandoff } from './hinted-handoff.js';
import { KeyLock } from './key-lock.js';
import { fromWireEntry, toWireEntry } from './wire-entry.js';

type SetOp = Extract<CacheOp, { op: 'set' }>;

/** Most forwards a key operation may take before it is executed where it is. */
export const MAX_HOPS = 2;

/** What the coordinator needs from its peer. */
export interface CoordinatorComponents {
  selfId: string;
  store: LocalStore;
  clock: HybridLogicalClock;
  /** The current ring. */
  ring: () => HashRing;
  /** The open link to a peer, if any. */
  link: (peerId: string) => PeerLink | undefined;
  /** The membership state of a peer. */
  memberState: (peerId: string) => MemberState | undefined;
  /** Wall clock in ms since the epoch (injectable for tests). */
  now?: () => number;
  /** Where replicas that missed a write are remembered. */
  hints?: HintedHandoff;
}

/** Counters of the data path, reported by `stats`. */
export interface CoordinatorStats {
  /** Operations received from clients on this peer. */
  requests: number;
  /** Operations this peer executed as owner (primary or acting). */
  ownedOps: number;
  /** Operations forwarded to another peer. */
  forwarded: number;
  /** `ops` requests that carried them (the operations forwarded to one peer in one turn share one). */
  forwardBatches: number;
  /** Forwards that fell back to the next member of the preference list. */
  fallbacks: number;
  /** Owner misses answered by asking replicas. */
  replicaReads: number;
  /** Entries written back locally by read repair. */
  readRepairs: number;
  /** Replica copies that failed. */
  replicationFailures: number;
  /** Entries applied from replication (`replicate`, `handoff`, and the copies of sets this peer forwarded as a holder). */
  replicatedIn: number;
  /** Entries this peer sent to replicas (one per write and replica; a holder's copy is not counted). */
  replicatedOut: number;
}

type Config = Pick<PeerConfig, 'replicas' | 'writeAcks' | 'peerRequestTimeoutMs' | 'tombstoneTtlMs'>;

const IDEMPOTENT: ReadonlySet<CacheOp['op']> = new Set(['get', 'ttl', 'set', 'del', 'expire']);

/**
 * Routes and executes key operations. One per peer.
 */
export class Coordinator {
  readonly stats: CoordinatorStats = { requests: 0, ownedOps: 0, forwarded: 0, forwardBatches: 0, fallbacks: 0, replicaReads: 0, readRepairs: 0, replicationFailures: 0, replicatedIn: 0, replicatedOut: 0 };
  private readonly locks = new KeyLock();
  /** Entries waiting for the end of this event-loop turn, per replica id (see queueReplication). */
  private readonly replicationQueues = new Map<string, Array<{ wire: WireEntry; settle: (ok: boolean, replicaId: string) => void }>>();
  private replicationFlushScheduled = false;
  /** Operations waiting for the end of this event-loop turn, per link they leave on (see forwardBatch). */
  private readonly forwardBatches = new Map<PeerLink, ForwardBatch>();
  private forwardFlushScheduled = false;
  private readonly now: () => number;

  constructor(
    private readonly components: CoordinatorComponents,
    private readonly config: Config,
  ) {
    this.now = components.now ?? Date.now;
  }

  /**
   * Executes a client's key operation: locally when this peer is the key's primary, else
   * forwarded to the primary, falling back along the preference list.
   *
   * Returns the result itself when the operation completed synchronously (a hit on the primary,
   * a write with no replica to wait for), else a promise: the hot path then costs no promise.
   * @throws CacheError UNAVAILABLE when no owner can be reached (synchronously on an empty ring),
   *   TIMEOUT, NOT_A_NUMBER, TOO_LARGE / OUT_OF_MEMORY from the owner's store (synchronously
   *   when this peer is the owner)
   */
  execute(op: CacheOp): OpResult | Promise<OpResult> {
    this.stats.requests++;
    return this.route(op, 0);
  }

  /**
   * Handles a key operation forwarded by another peer. Executes it here as owner when asked to act
   * for an unreachable primary, when this peer is the primary, or when the hop budget
   * ({@link MAX_HOPS}) is spent; otherwise routes it by this peer's own ring (which forwards once
   * more, or serves as acting owner when this peer is in the preference list).
   * Like {@link execute}, returns a plain result when it completed synchronously, and may throw.
   */
  handleForwarded(body: ForwardedOp, senderId: string): OpResult | Promise<OpResult> {
    const { op, hops } = body;
    const ring = this.components.ring();
    const self = this.components.selfId;
    // The sender holds a copy of a set's key: executed here, the write leaves it out of
    // replication and returns the version for it (a forward from here drops the flag: the
    // owner further on replicates to the sender by its own list).
    const holder = body.holder === true && op.op === 'set' ? senderId : undefined;
    // Our ring may disagree with the forwarder's while membership news spreads: within the hop
    // budget, route by our own ring (which may execute here, as owner or acting owner).
    if (body.acting || hops >= MAX_HOPS) return this.executeAsOwner(op, this.prefsOf(op.key), holder);
    const hash = hashKey(op.key);
    const primary = ring.primaryForHash(hash);
    if (primary === undefined) return this.executeAsOwner(op, [self]);
    if (primary === self) return this.executeAsOwner(op, ownerPrefs(op, ring, hash), holder);
    return this.forward(op, hops, ring.preferenceListForHash(hash));
  }

  /**
   * Handles an `ops` request: the operations peer `senderId` forwarded during one of its turns. Each
   * starts as {@link handleForwarded} would, in order (as the requests of a client's batch frame
   * start: a later read of a key sees a `set` before it); a malformed or failing operation fails alone.
   * @param ops the request's operations, each validated here
   * @returns `{results}`, one per operation in their order: at once when every operation completed
   *   synchronously, else a promise that settles once all have (it never rejects)
   */
  handleForwardedBatch(ops: readonly unknown[], senderId: string): { results: ForwardedResult[] } | Promise<{ results: ForwardedResult[] }> {
    const results = new Array<ForwardedResult>(ops.length);
    let waiting = 0;
    let done: (() => void) | undefined;
    for (let i = 0; i < ops.length; i++) {
      const item = ops[i];
      if (!isForwardedOp(item)) {
        results[i] = { ok: false, error: { code: 'BAD_REQUEST', message: 'malformed forwarded operation' } };
        continue;
      }
      let result: OpResult | Promise<OpResult>;
      try {
        result = this.handleForwarded(item, senderId);
      } catch (error) {
        results[i] = { ok: false, error: toCacheError(error).toWire() };
        continue;
      }
      if (!(result instanceof Promise)) {
        results[i] = { ok: true, body: result };
        continue;
      }
      waiting++;
      result.then(
        (body) => {
          results[i] = { ok: true, body };
          if (--waiting === 0) done?.();
        },
        (error: unknown) => {
          results[i] = { ok: false, error: toCacheError(error).toWire() };
          if (--waiting === 0) done?.();
        },
      );
    }
    if (waiting === 0) return { results };
    // The operations' promises settle in later microtasks, so `done` is set before any of them runs.
    return new Promise((resolve) => {
      done = () => resolve({ results });
    });
  }

  /** Applies entries sent by a primary (replication) or a rebalancing peer (handoff), LWW. */
  applyEntries(entries: WireEntry[]): number {
    let applied = 0;
    for (const wire of entries) {
      this.components.clock.observe(wire[2]);
      try {
        if (this.components.store.apply(wire[0], fromWireEntry(wire))) applied++;
      } catch {
        // An entry the local budget cannot hold is skipped; the other copies keep it.
      }
    }
    this.stats.replicatedIn += applied;
    return applied;
  }

  /** Local-only read of entries, tombstones included (for replica reads and repair). */
  readLocal(keys: string[]): Array<WireEntry | null> {
    return keys.map((key) => {
      const entry = this.components.store.get(key);
      return entry ? toWireEntry(key, entry) : null;
    });
  }

  private route(op: CacheOp, hops: number): OpResult | Promise<OpResult> {
    const ring = this.components.ring();
    // The key is hashed once: the primary, and the preference list when it is needed (a forward,
    // or a write this owner replicates), both come from the same hash. A ring of one peer needs
    // no hash: every hash maps to that peer.
    const hash = ring.size > 1 ? hashKey(op.key) : 0;
    const primary = ring.primaryForHash(hash);
    if (primary === undefined) throw new CacheError('UNAVAILABLE', 'the ring is empty: this peer has left the cluster');
    if (primary === this.components.selfId) return this.executeAsOwner(op, ownerPrefs(op, ring, hash));
    return this.forward(op, hops, ring.preferenceListForHash(hash));
  }

  /** Sends `op` to the first reachable member of `prefs` (this peer's turn: executes it here). */
  private async forward(op: CacheOp, hops: number, prefs: readonly string[]): Promise<OpResult> {
    const self = this.components.selfId;
    // A set forwarded by a member of the key's preference list: the owner leaves this peer out of
    // its replication and returns the stamped version instead (see applyHolderCopy).
    const holder = op.op === 'set' && prefs.includes(self);
    let lastError: unknown;
    for (let i = 0; i < prefs.length; i++) {
      const target = prefs[i]!;
      if (i > 0) this.stats.fallbacks++;
      if (target === self) return this.executeAsOwner(op, prefs);
      const link = this.components.link(target);
      if (!link) {
        lastError = new LinkUnavailableError(target, false, 'is down');
        continue;
      }
      try {
        this.stats.forwarded++;
        const batch = this.forwardBatch(link);
        // `acting` and `holder` only when true: every byte of a forwarded operation is encoded and parsed once more.
        const forwarded: ForwardedOp = { op, hops: hops + 1 };
        if (i > 0) forwarded.acting = true;
        if (holder) forwarded.holder = true;
        const index = batch.ops.push(forwarded) - 1;
        const result = (await batch.results)[index]!;
        if (result.ok) return holder ? this.applyHolderCopy(op as SetOp, result.body) : result.body;
        throw CacheError.fromWire(result.error);
      } catch (error) {
        if (!this.mayRetryElsewhere(op, error)) throw error;
        lastError = error;
      }
    }
    if (lastError instanceof CacheError) throw new CacheError(lastError.code, `no owner of the key could serve it: ${lastError.message}`);
    throw new CacheError('UNAVAILABLE', 'no owner of the key could serve it');
  }

  /** The preference list of `key` on the current ring. */
  private prefsOf(key: string): readonly string[] {
    const prefs = this.components.ring().preferenceList(key);
    return prefs.length > 0 ? prefs : [this.components.selfId];
  }

  private mayRetryElsewhere(op: CacheOp, error: unknown): boolean {
    if (error instanceof LinkUnavailableError) return !error.sent || IDEMPOTENT.has(op.op);
    return error instanceof CacheError && error.code === 'TIMEOUT' && IDEMPOTENT.has(op.op);
  }

  /**
   * Runs `op` with this peer as owner. `prefs` is the key's preference list when the caller has
   * it; otherwise it is computed only if needed (a local miss, a write with replicas).
   */
  private executeAsOwner(op: CacheOp, prefs: readonly string[] | undefined, holder?: string): OpResult | Promise<OpResult> {
    this.stats.ownedOps++;
    switch (op.op) {
      case 'get': {
        const local = this.components.store.getValue(op.key);
        if (local !== undefined) return local !== null ? { found: true, value: local } : { found: false };
        return this.lookup(op.key, prefs ?? this.prefsOf(op.key)).then((entry) => (entry && entry.value !== null ? { found: true, value: entry.value } : { found: false }));
      }
      case 'ttl':
        return this.lookup(op.key, prefs ?? this.prefsOf(op.key)).then((entry) => {
          if (!entry || entry.value === null) return { ttl: -2 };
          return { ttl: entry.expiresAt === 0 ? -1 : Math.max(1, entry.expiresAt - this.now()) };
        });
      case 'set': {
        if (holder !== undefined) {
          prefs ??= this.prefsOf(op.key);
          // Only a member of the key's preference list (by this owner's ring) holds a copy.
          if (holder === this.components.selfId || !prefs.includes(holder)) holder = undefined;
        }
        if (!this.locks.isHeld(op.key)) {
          // Nothing else runs on this key: the local write is one synchronous step, so no lock is
          // needed; a read-modify-write that starts later sees it. Only replication is awaited.
          const entry = this.stamp(op.key, op.value, op.ttl === undefined ? 0 : this.now() + op.ttl);
          const replicated = this.replicateWrite(op.key, entry, prefs, holder);
          const result = holder === undefined ? {} : holderCopy(entry);
          return replicated === undefined ? result : replicated.then(() => result);
        }
        const { key, value, ttl } = op;
        return this.locks.run(key, async () => {
          const entry = this.stamp(key, value, ttl === undefined ? 0 : this.now() + ttl);
          await this.replicateWrite(key, entry, prefs, holder);
          return holder === undefined ? {} : holderCopy(entry);
        });
      }
      case 'del':
        return this.locks.run(op.key, async () => {
          const list = prefs ?? this.prefsOf(op.key);
          const current = await this.lookup(op.key, list);
          if (!current || current.value === null) return { deleted: false };
          await this.write(op.key, null, this.now() + this.config.tombstoneTtlMs, list);
          return { deleted: true };
        });
      case 'expire':
        return this.locks.run(op.key, async () => {
          const list = prefs ?? this.prefsOf(op.key);
          const current = await this.lookup(op.key, list);
          if (!current || current.value === null) return { updated: false };
          await this.write(op.key, current.value, this.now() + op.ttl, list);
          return { updated: true };
        });
      case 'incr':
        return this.locks.run(op.key, async () => {
          const list = prefs ?? this.prefsOf(op.key);
          const current = await this.lookup(op.key, list);
          const base = current && current.value !== null ? parseInteger(current.value) : 0;
          const value = base + op.by;
          if (!Number.isSafeInteger(value)) throw new CacheError('NOT_A_NUMBER', 'increment would leave the safe integer range');
          await this.write(op.key, String(value), current && current.value !== null ? current.expiresAt : 0, list);
          return { value };
        });
    }
  }

  /**
   * The newest entry of a key (tombstones included): the local one, or on a local miss the newest
   * held by the other members of the preference list, written back locally (read repair).
   */
  private async lookup(key: string, prefs: readonly string[]): Promise<StoredEntry | undefined> {
    const local = this.components.store.get(key);
    if (local || prefs.length <= 1) return local;
    this.stats.replicaReads++;
    const self = this.components.selfId;
    const replies = await Promise.allSettled(
      prefs
        .filter((id) => id !== self)
        .map((id) => {
          const link = this.components.link(id);
          return link ? link.request('read', { keys: [key] }, this.config.peerRequestTimeoutMs) : Promise.reject(new Error('down'));
        }),
    );
    let newest: WireEntry | null = null;
    for (const reply of replies) {
      if (reply.status !== 'fulfilled') continue;
      const wire = reply.value.entries[0];
      if (wire && (!newest || compareVersions(wire[2] as Version, newest[2]) > 0)) newest = wire;
    }
    if (!newest) return undefined;
    const entry = fromWireEntry(newest);
    this.components.clock.observe(entry.version);
    try {
      if (this.components.store.apply(key, entry)) this.stats.readRepairs++;
    } catch {
      // Too large for this peer's budget: serve it without keeping it.
    }
    return entry.expiresAt !== 0 && entry.expiresAt <= this.now() ? undefined : entry;
  }

  /**
   * Writes a value (or a tombstone when `value` is null) with a fresh version locally, then to
   * the replicas ({@link stamp}, then {@link replicateWrite}). Returns undefined when no replica is
   * to be waited for, else a promise that resolves once the required copies hold it.
   * @param prefs the key's preference list; computed when undefined and needed
   * @throws CacheError TOO_LARGE / OUT_OF_MEMORY (synchronously) from the local store
   * @throws CacheError UNAVAILABLE (the promise) when fewer copies than required acknowledged
   *   (the write may still have reached some of them: it is not acknowledged, so no guarantee is made)
   */
  private write(key: string, value: string | null, expiresAt: number, prefs: readonly string[] | undefined): Promise<void> | undefined {
    return this.replicateWrite(key, this.stamp(key, value, expiresAt), prefs);
  }

  /**
   * Applies a value (or a tombstone) locally with a fresh version, one that beats the copy held.
   * @returns the entry written
   * @throws CacheError TOO_LARGE / OUT_OF_MEMORY from the local store
   */
  private stamp(key: string, value: string | null, expiresAt: number): StoredEntry {
    const store = this.components.store;
    const self = this.components.selfId;
    let version = this.components.clock.now();
    // The owner orders the writes of its keys (under the key lock): a write must beat the copy it
    // holds even if that copy carries a version from a peer whose clock runs far ahead.
    const order = store.compareWithHeld(key, version);
    if (order !== undefined && order <= 0) {
      const held = store.peek(key)!.version;
      version = [held[0], held[1] + 1, self];
    }
    const entry: StoredEntry = { value, version, expiresAt };
    store.apply(key, entry);
    return entry;
  }

  /**
   * Sends an entry just written here ({@link stamp}) to the other members of the key's preference
   * list. Returns undefined when no replica is to be waited for, else a promise that resolves once
   * the required copies hold it.
   * @param prefs the key's preference list; computed when undefined and needed
   * @param holder a member of `prefs` that applies the write itself from the owner's reply (the
   *   peer that forwarded a set, see applyHolderCopy): left out of replication, its copy counted
   * @throws CacheError UNAVAILABLE (the promise) when fewer copies than required acknowledged
   */
  private replicateWrite(key: string, entry: StoredEntry, prefs: readonly string[] | undefined, holder?: string): Promise<void> | undefined {
    const self = this.components.selfId;
    if (prefs === undefined) {
      if (this.components.ring().replicas <= 1) return undefined;
      prefs = this.prefsOf(key);
    }
    // One loop, no callbacks: the objects made here live a replication round (see replicate).
    const others: string[] = [];
    const countAlive = this.config.writeAcks === 0;
    let alive = 0;
    for (const id of prefs) {
      if (id === self || id === holder) continue;
      others.push(id);
      if (countAlive && this.components.memberState(id) === 'alive') alive++;
    }
    if (others.length === 0) return undefined;
    // The holder's copy counts as one of the copies (it is applied before the client's reply).
    const held = holder === undefined ? 1 : 2;
    const required = this.config.writeAcks === 0 ? alive : Math.max(0, Math.min(this.config.writeAcks - held, others.length));
    return this.replicate(key, toWireEntry(key, entry), others, required, held);
  }

  /**
   * Applies the copy of a forwarded set that the owner returned to this peer, a member of the
   * key's preference list that the owner left out of its replication (last-writer-wins, as a
   * `replicate` would): one message each way instead of a forward, a `replicate` and its
   * acknowledgement. Returns the result without the copy, as the client gets it.
   */
  private applyHolderCopy(op: SetOp, result: OpResult): OpResult {
    const copy = (result as { copy?: unknown }).copy;
    if (!Array.isArray(copy) || copy.length !== 2 || !isVersion(copy[0]) || !Number.isSafeInteger(copy[1]) || (copy[1] as number) < 0) return result;
    const version = copy[0];
    this.components.clock.observe(version);
    try {
      if (this.components.store.apply(op.key, { value: op.value, version, expiresAt: copy[1] as number })) this.stats.replicatedIn++;
    } catch {
      // An entry the local budget cannot hold is skipped, as a replicate would: the other copies keep it.
    }
    return {};
  }

  /**
   * Sends one entry to the replicas; resolves once `required` of them acknowledged, or rejects
   * once every replica answered with fewer. Replicas that fail get a hint (hinted handoff). One
   * promise and one callback per write (they live a replication round, long enough to be
   * copied by a scavenge or two under load, so each object here counts).
   * @param held copies held besides the replicas' (the owner's, and a holder's), for the error message
   * @throws CacheError UNAVAILABLE (the promise) when fewer than `required` replicas acknowledged
   */
  private replicate(key: string, wire: WireEntry, replicas: readonly string[], required: number, held: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let acks = 0;
      let settled = 0;
      // Nothing required beyond the owner's copy (writeAcks 1): acknowledge now, replicate behind.
      let answered = required <= 0;
      if (answered) resolve();
      const onReplicated = (ok: boolean, replicaId: string): void => {
        settled++;
        if (ok) {
          acks++;
        } else {
          this.stats.replicationFailures++;
          this.components.hints?.add(replicaId, key);
        }
        if (answered) return;
        if (acks >= required) {
          answered = true;
          resolve();
        } else if (settled === replicas.length) {
          answered = true;
          reject(new CacheError('UNAVAILABLE', `write reached ${acks + held} of the ${required + held} copies required`));
        }
      };
      for (const replica of replicas) this.queueReplication(replica, wire, onReplicated);
    });
  }

  /**
   * Queues an entry for a replica. The entries queued for one replica during an event-loop turn
   * leave as ONE `replicate` request at the end of the turn (the writes of every client socket
   * read in that turn share it), and one acknowledgement settles them all: a replicated write
   * costs a share of a frame, not a frame, a pending request and a deadline of its own.
   */
  private queueReplication(replicaId: string, wire: WireEntry, settle: (ok: boolean, replicaId: string) => void): void {
    this.stats.replicatedOut++;
    let queue = this.replicationQueues.get(replicaId);
    if (queue === undefined) {
      queue = [];
      this.replicationQueues.set(replicaId, queue);
    }
    queue.push({ wire, settle });
    if (!this.replicationFlushScheduled) {
      this.replicationFlushScheduled = true;
      setImmediate(this.flushReplication);
    }
  }

  /**
   * The batch of operations forwarded over `link` in this event-loop turn, created (and its flush
   * scheduled) on the first. At the end of the turn the batch leaves as ONE `ops` request; every
   * forward in it awaits the same reply and takes its own result by index, so a forwarded
   * operation costs an entry in an array, not a pending request, a deadline, a promise and a
   * frame of its own (in a heap profile of a 3-peer preload through one peer, the per-operation
   * forward was 23% of the bytes that peer allocated and 30% of what its scavenges promoted).
   */
  private forwardBatch(link: PeerLink): ForwardBatch {
    // Keyed by link, not peer id: should a peer's link be replaced during the turn (a duplicate
    // lost its tie-break), what was queued for the old one still leaves on it, or fails there.
    let batch = this.forwardBatches.get(link);
    if (batch === undefined) {
      batch = new ForwardBatch(link);
      this.forwardBatches.set(link, batch);
    }
    if (!this.forwardFlushScheduled) {
      this.forwardFlushScheduled = true;
      setImmediate(this.flushForwards);
    }
    return batch;
  }

  private readonly flushForwards = (): void => {
    this.forwardFlushScheduled = false;
    const batches = [...this.forwardBatches.values()];
    this.forwardBatches.clear();
    for (const batch of batches) this.sendForwardBatch(batch);
  };

  private sendForwardBatch(batch: ForwardBatch): void {
    const { link, ops } = batch;
    this.stats.forwardBatches++;
    // Twice the link deadline: the owner's own replication round runs inside this request.
    link.request('ops', { ops }, 2 * this.config.peerRequestTimeoutMs).then((reply) => {
      const results = (reply as { results?: unknown } | undefined)?.results;
      if (Array.isArray(results) && results.length === ops.length && results.every(isForwardedResult)) batch.settle(results);
      else batch.fail(new CacheError('INTERNAL', `peer ${link.peerId} answered ${ops.length} forwarded operations with a malformed reply`));
    }, batch.fail);
    // Out now, not at the link's own end-of-turn flush (which may already have run this turn).
    link.flushNow();
  }

  private readonly flushReplication = (): void => {
    this.replicationFlushScheduled = false;
    for (const [replicaId, queue] of this.replicationQueues) {
      const link = this.components.link(replicaId);
      const sent = link
        ? link.request('replicate', { entries: queue.map((item) => item.wire) }, this.config.peerRequestTimeoutMs)
        : Promise.reject(new LinkUnavailableError(replicaId, false, 'is down'));
      // Out now, not at the link's own end-of-turn flush (which may already have run this turn).
      link?.flushNow();
      sent.then(
        () => {
          for (const item of queue) item.settle(true, replicaId);
        },
        () => {
          for (const item of queue) item.settle(false, replicaId);
        },
      );
    }
    this.replicationQueues.clear();
  };
}

/**
 * Operations forwarded to one peer during one event-loop turn (see Coordinator.forwardBatch):
 * `results` settles with the reply's results, in the order of `ops`, or rejects with the error of
 * the request as a whole (the link closed: LinkUnavailableError; no reply in time: TIMEOUT).
 */
class ForwardBatch {
  readonly ops: ForwardedOp[] = [];
  readonly results: Promise<ForwardedResult[]>;
  settle!: (results: ForwardedResult[]) => void;
  fail!: (error: Error) => void;

  constructor(readonly link: PeerLink) {
    this.results = new Promise<ForwardedResult[]>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }
}

/**
 * The preference list to hand an owner running `op` (see Coordinator.executeAsOwner), taken from
 * the key's hash already computed: with replicas, every operation but a GET uses it (writes
 * replicate, the others look the key up). Undefined for a GET (it needs the list on a local miss
 * only) and on a ring without replicas: the owner computes the list where it needs one.
 */
function ownerPrefs(op: CacheOp, ring: HashRing, hash: number): readonly string[] | undefined {
  return op.op !== 'get' && ring.replicas > 1 ? ring.preferenceListForHash(hash) : undefined;
}

/** The `copy` a set's result carries for its holder: the version and expiry of the entry written. */
function holderCopy(entry: StoredEntry): OpResult {
  return { copy: [entry.version, entry.expiresAt] };
}

function isForwardedResult(value: unknown): value is ForwardedResult {
  if (typeof value !== 'object' || value === null) return false;
  const { ok, body, error } = value as { ok?: unknown; body?: unknown; error?: unknown };
  return ok === true ? typeof body === 'object' && body !== null : ok === false && typeof error === 'object' && error !== null;
}

function parseInteger(json: string): number {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new CacheError('NOT_A_NUMBER', 'the stored value is not an integer');
  return value;
}
