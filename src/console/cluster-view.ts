/**
 * The live view model of the console: folds ring snapshots, member events, rebalance events,
 * stats polls and connection changes into one {@link ClusterViewState} (peer rows, the ownership
 * strip, the event log) for the UI to render. No I/O and no timers: the
 * {@link ClusterWatcher} feeds it, tests feed it synthetic inputs with an injected clock.
 *
 * The event log's texts (tests depend on the exact wording):
 *
 * | input                                                     | level | text |
 * |-----------------------------------------------------------|-------|------|
 * | a ring snapshot adds a peer to the ring (not the first)   | info  | `p4 joined: 24.7% of the ring moves to p4` (its new ownership) |
 * | a peer known dead or left comes back (member or ring)     | info  | `p3 restarted` |
 * | member event `suspect`                                    | warn  | `p2 suspect` |
 * | member event `alive` after `suspect` (a refutation)       | info  | `p2 alive again (incarnation 3)` |
 * | member event `dead`                                       | error | `p2 dead after 3.1 s` (since first seen suspect), or `p2 dead` |
 * | member event `left`                                       | info  | `p2 left` |
 * | stats polls: a rebalance ran and is over everywhere       | info  | `rebalance to p4 done: 1,234 keys in 2.0 s`, one per peer whose key count grew |
 * | connection up (first time, or to another URL)             | info  | `connected to ws://127.0.0.1:7000` |
 * | connection lost                                           | warn  | `connection lost: reconnecting` |
 * | connection up again after a loss                          | info  | `reconnected to ws://127.0.0.1:7001` |
 */
import { EventEmitter } from 'eventemitter3';
import type { MemberEvent, RebalanceEvent, RingInfo } from '../client/cache-client.js';
import { CacheError } from '../errors.js';
import type { MemberState } from '../membership/member.js';
import { HashRing } from '../ring/hash-ring.js';
import type { ClusterViewState, PeerRow, ViewEvent } from './console-types.js';
import { formatCount, formatSeconds, statsError } from './result-format.js';

/** Options of {@link ClusterView}. */
export interface ClusterViewOptions {
  /** Wall clock in ms since the Unix epoch, for event times and durations. Default `Date.now`. */
  now?: () => number;
  /** Buckets in {@link ClusterViewState.strip}. Integer >= 1; default 64. */
  stripWidth?: number;
  /** Events kept (the oldest are dropped first). Integer >= 1; default 200. */
  maxEvents?: number;
}

/** The connection status shown by the view. */
export type ViewConnection = ClusterViewState['connection'];

/** The view's events: `change` after every input that may have changed {@link ClusterView.state}. */
export interface ClusterViewEvents {
  change: [];
}

/** Size of the hash space: hashes are unsigned 32-bit integers. */
const HASH_SPACE = 2 ** 32;

interface MemberRow {
  id: string;
  url: string;
  state: MemberState;
  incarnation: number;
  ownership: number;
}

interface PeerStats {
  keys?: number;
  opsPerSec?: number;
  unreachable?: boolean;
}

/** A rebalance seen running somewhere, until a poll sees it over everywhere. */
interface RebalanceTracking {
  /** When it was first seen: the first poll that saw `running`, or a `start` event. */
  startedAt: number;
  /** Keys per peer just before it (the previous poll), for the growth. */
  baseline: Map<string, number>;
  /** Peers in the baseline poll, answered or not: one missing from it is new (0 keys before). */
  baselineIds: Set<string>;
  /** Last poll that saw it running. */
  lastRunningPollAt?: number;
  /** Last `done` event of the connected peer. */
  doneAt?: number;
}

/**
 * The view model. Inputs: {@link applyRing}, {@link applyMember}, {@link applyRebalance},
 * {@link applyClusterStats}, {@link setConnection}; output: {@link state}, and `change` events.
 *
 * - Rows: the members of the last ring snapshot (dead and left ones included), updated by member
 *   events, sorted by id; `connected` marks the ring's `self`.
 * - Strip: `stripWidth` equal buckets of the 2^32 hash space; bucket i shows the primary of hash
 *   `floor(i * 2^32 / width)` on a {@link HashRing} of the snapshot's alive and suspect ids with
 *   its `vnodes` and `replicas` (the placement every peer computes), null on an empty ring.
 * - ops/s of a peer: the growth of its `coordinator.requests` between two answered polls divided
 *   by the seconds between them (undefined after its first poll, or when the counter went down: a
 *   restart). A peer whose entry is `{error}` is `unreachable`, its keys and ops/s unknown.
 */
export class ClusterView extends EventEmitter<ClusterViewEvents> {
  private readonly now: () => number;
  private readonly stripWidth: number;
  private readonly maxEvents: number;
  private url = '';
  private connection: ViewConnection = 'connecting';
  private ring: RingInfo | undefined;
  private rows = new Map<string, MemberRow>();
  private strip: Array<string | null>;
  private events: ViewEvent[] = [];
  private appended = 0;
  /** The state each member was last reported in, by member events (first sightings from rings). */
  private readonly lastState = new Map<string, MemberState>();
  /** When each currently suspect member was first seen suspect. */
  private readonly suspectSince = new Map<string, number>();
  /** Members seen dead or left and not back since: their return is a restart. */
  private readonly down = new Set<string>();
  private stats = new Map<string, PeerStats>();
  /** Last answered `coordinator.requests` sample per peer, for ops/s. */
  private readonly samples = new Map<string, { requests: number; at: number }>();
  /** Keys per peer in the last poll, and the ids that poll listed. */
  private lastKeys = new Map<string, number>();
  private lastPollIds = new Set<string>();
  private statsAt: number | undefined;
  private rebalance: RebalanceTracking | undefined;

  /** @throws CacheError BAD_CONFIG when `stripWidth` or `maxEvents` is not an integer >= 1 */
  constructor(options: ClusterViewOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.stripWidth = positiveInteger('stripWidth', options.stripWidth ?? 64);
    this.maxEvents = positiveInteger('maxEvents', options.maxEvents ?? 200);
    this.strip = new Array<string | null>(this.stripWidth).fill(null);
  }

  /** A fresh snapshot of everything the view shows. */
  get state(): ClusterViewState {
    const self = this.ring?.self;
    const peers: PeerRow[] = [...this.rows.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((row) => {
        const peer: PeerRow = { ...row, connected: row.id === self };
        const stats = this.stats.get(row.id);
        if (stats?.keys !== undefined) peer.keys = stats.keys;
        if (stats?.opsPerSec !== undefined) peer.opsPerSec = stats.opsPerSec;
        if (stats?.unreachable) peer.unreachable = true;
        return peer;
      });
    const state: ClusterViewState = {
      url: this.url,
      connection: this.connection,
      epoch: this.ring?.epoch ?? 0,
      checksum: this.ring?.checksum ?? '',
      replicas: this.ring?.replicas ?? 0,
      peers,
      strip: [...this.strip],
      events: this.events.map((event) => ({ ...event })),
    };
    if (this.statsAt !== undefined) state.statsAt = this.statsAt;
    return state;
  }

  /** Events appended since the view was created (the log keeps only the last `maxEvents`): lets a reader find the new ones. */
  get eventCount(): number {
    return this.appended;
  }

  /**
   * A ring snapshot (a `ring` reply or event). Every snapshot but the first logs a join for each
   * peer it adds to the ring, and a restart for an added peer last seen dead or left.
   * @param options.baseline treat it as a first snapshot, logging no joins: for the first ring
   *   of another peer (after `connect URL`), which is a new vantage point rather than a change
   */
  applyRing(ring: RingInfo, options: { baseline?: boolean } = {}): void {
    const before = this.ring && !options.baseline ? inRingIds(this.ring) : undefined;
    const after = inRingIds(ring);
    for (const peer of [...ring.peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      if (!this.lastState.has(peer.id)) {
        this.lastState.set(peer.id, peer.state);
        if (peer.state === 'dead' || peer.state === 'left') this.down.add(peer.id);
      }
      if (before === undefined || before.has(peer.id) || !after.has(peer.id)) continue;
      if (this.down.delete(peer.id)) this.log('info', `${peer.id} restarted`);
      this.log('info', `${peer.id} joined: ${percent(peer.ownership)}% of the ring moves to ${peer.id}`);
    }
    this.ring = ring;
    this.rows = new Map(ring.peers.map((peer) => [peer.id, { id: peer.id, url: peer.url, state: peer.state, incarnation: peer.incarnation, ownership: peer.ownership }]));
    this.strip = computeStrip(ring, after, this.stripWidth);
    this.emit('change');
  }

  /** A `member` event: updates the member's row and logs suspicions, refutations, deaths, leaves and restarts. */
  applyMember(event: MemberEvent): void {
    const { peer, state } = event;
    const id = peer.id;
    const previous = this.lastState.get(id);
    this.lastState.set(id, state);
    const row = this.rows.get(id);
    this.rows.set(id, { id, url: peer.url, state, incarnation: peer.incarnation, ownership: row?.ownership ?? 0 });
    const at = this.now();
    switch (state) {
      case 'suspect':
        if (this.down.delete(id)) this.log('info', `${id} restarted`, at);
        if (previous !== 'suspect') {
          if (!this.suspectSince.has(id)) this.suspectSince.set(id, at);
          this.log('warn', `${id} suspect`, at);
        }
        break;
      case 'alive':
        if (this.down.delete(id)) this.log('info', `${id} restarted`, at);
        else if (previous === 'suspect') this.log('info', `${id} alive again (incarnation ${peer.incarnation})`, at);
        this.suspectSince.delete(id);
        break;
      case 'dead':
        if (previous !== 'dead') {
          const since = this.suspectSince.get(id);
          this.log('error', since === undefined ? `${id} dead` : `${id} dead after ${formatSeconds(at - since)} s`, at);
        }
        this.suspectSince.delete(id);
        this.down.add(id);
        break;
      case 'left':
        if (previous !== 'left') this.log('info', `${id} left`, at);
        this.suspectSince.delete(id);
        this.down.add(id);
        break;
    }
    this.emit('change');
  }

  /**
   * A `rebalance` event of the connected peer. A `start` begins tracking a rebalance (as a poll
   * seeing `running` does) and a `done` dates its end more precisely than the next poll can; the
   * `rebalance to ... done` lines themselves come from the polls' key counts.
   */
  applyRebalance(event: RebalanceEvent): void {
    const at = this.now();
    if (event.phase === 'start') {
      // Before the first poll there is no baseline to measure growth from: the polls take over.
      if (!this.rebalance && this.statsAt !== undefined) this.rebalance = this.startTracking(at);
    } else if (this.rebalance) {
      this.rebalance.doneAt = at;
    }
    this.emit('change');
  }

  /**
   * A `cluster-stats` poll: `{[peerId]: stats | {error: {code, message}}}`, taken at `at` (ms
   * since the epoch; the watcher passes the time the poll was sent).
   *
   * Rebalances: when any peer's `rebalance.running` is true, the keys of every peer in the poll
   * before are remembered; at the first later poll where none is running, each peer whose key
   * count grew gets `rebalance to <id> done: <growth> keys in <s> s`, the time counted from the
   * first poll (or `start` event) that saw it to that poll (or to the connected peer's `done`
   * event, when no poll saw it running after that).
   */
  applyClusterStats(peers: Record<string, Record<string, unknown>>, at: number): void {
    const stats = new Map<string, PeerStats>();
    const keys = new Map<string, number>();
    let running = false;
    for (const [id, entry] of Object.entries(peers)) {
      if (typeof entry !== 'object' || entry === null || statsError(entry)) {
        stats.set(id, { unreachable: true });
        this.samples.delete(id);
        continue;
      }
      const peerStats: PeerStats = {};
      if (typeof entry.keys === 'number') {
        peerStats.keys = entry.keys;
        keys.set(id, entry.keys);
      }
      const requests = numberAt(entry, 'coordinator', 'requests');
      if (requests !== undefined) {
        const sample = this.samples.get(id);
        if (sample && at > sample.at && requests >= sample.requests) peerStats.opsPerSec = ((requests - sample.requests) * 1000) / (at - sample.at);
        this.samples.set(id, { requests, at });
      }
      if (numberAt(entry, 'rebalance', 'running') === 1) running = true;
      stats.set(id, peerStats);
    }
    for (const id of this.samples.keys()) if (!(id in peers)) this.samples.delete(id);

    if (running) {
      if (!this.rebalance) this.rebalance = this.statsAt === undefined ? this.trackFrom(at, keys, new Set(Object.keys(peers))) : this.startTracking(at);
      this.rebalance.lastRunningPollAt = at;
    } else if (this.rebalance && at > this.rebalance.startedAt) {
      this.finishRebalance(this.rebalance, peers, keys, at);
      this.rebalance = undefined;
    }

    this.stats = stats;
    this.lastKeys = keys;
    this.lastPollIds = new Set(Object.keys(peers));
    this.statsAt = at;
    this.emit('change');
  }

  /**
   * The console's connection changed. Logs `connected to <url>` when it comes up for the first
   * time or to another URL, `reconnected to <url>` when it comes back after a loss, and
   * `connection lost: reconnecting` when it drops.
   * @param url the peer's URL; unchanged when omitted
   */
  setConnection(status: ViewConnection, url?: string): void {
    const previous = this.connection;
    const previousUrl = this.url;
    if (url !== undefined) this.url = url;
    this.connection = status;
    if (status === 'connected' && (previous !== 'connected' || this.url !== previousUrl)) {
      this.log('info', previous === 'reconnecting' ? `reconnected to ${this.url}` : `connected to ${this.url}`);
    } else if (status === 'reconnecting' && previous !== 'reconnecting') {
      this.log('warn', 'connection lost: reconnecting');
    }
    if (status !== previous || this.url !== previousUrl) this.emit('change');
  }

  private startTracking(at: number): RebalanceTracking {
    return this.trackFrom(at, this.lastKeys, this.lastPollIds);
  }

  private trackFrom(at: number, keys: ReadonlyMap<string, number>, ids: ReadonlySet<string>): RebalanceTracking {
    return { startedAt: at, baseline: new Map(keys), baselineIds: new Set(ids) };
  }

  private finishRebalance(tracking: RebalanceTracking, peers: Record<string, unknown>, keys: ReadonlyMap<string, number>, at: number): void {
    const lastSeenRunning = tracking.lastRunningPollAt ?? Number.NEGATIVE_INFINITY;
    const endAt = tracking.doneAt !== undefined && tracking.doneAt >= lastSeenRunning ? tracking.doneAt : at;
    const seconds = formatSeconds(endAt - tracking.startedAt);
    for (const id of Object.keys(peers).sort()) {
      const now = keys.get(id);
      if (now === undefined) continue;
      // A peer listed in the baseline poll without a count (it did not answer) has no baseline.
      const before = tracking.baseline.get(id) ?? (tracking.baselineIds.has(id) ? undefined : 0);
      if (before === undefined || now <= before) continue;
      this.log('info', `rebalance to ${id} done: ${formatCount(now - before)} ${now - before === 1 ? 'key' : 'keys'} in ${seconds} s`, endAt);
    }
  }

  private log(level: ViewEvent['level'], text: string, at: number = this.now()): void {
    this.events.push({ at, level, text });
    this.appended++;
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
  }
}

// --- helpers of this file -------------------------------------------------------------------

function inRingIds(ring: RingInfo): Set<string> {
  return new Set(ring.peers.filter((peer) => peer.state === 'alive' || peer.state === 'suspect').map((peer) => peer.id));
}

/** Owner of each bucket start; all null when the ring is empty or its parameters are unusable. */
function computeStrip(ring: RingInfo, ids: ReadonlySet<string>, width: number): Array<string | null> {
  let hashRing: HashRing;
  try {
    hashRing = new HashRing([...ids], { vnodes: ring.vnodes, replicas: ring.replicas });
  } catch {
    return new Array<string | null>(width).fill(null);
  }
  return Array.from({ length: width }, (_, i) => hashRing.primaryForHash(Math.floor((i * HASH_SPACE) / width)) ?? null);
}

/** `0.2468` -> `24.7`. */
function percent(fraction: number): string {
  return (Number.isFinite(fraction) ? fraction * 100 : 0).toFixed(1);
}

/** `entry[group][field]` as a number (a boolean as 1/0), else undefined. */
function numberAt(entry: Record<string, unknown>, group: string, field: string): number | undefined {
  const inner = entry[group];
  if (typeof inner !== 'object' || inner === null) return undefined;
  const value = (inner as Record<string, unknown>)[field];
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new CacheError('BAD_CONFIG', `${name}: expected an integer >= 1, got ${String(value)}`);
  return value;
}
