/**
 * Rebalancing: when the ring changes (a peer joins, leaves, dies or restarts empty), streams
 * each local entry to the members of its new preference list that did not hold it under the
 * old ring, then drops the entries this peer no longer owns.
 *
 * - A pass compares the ring of the last COMPLETED pass (the base) with the current ring, so a
 *   pass cancelled by a newer change is redone against the union of both changes.
 * - Peers that restarted with the same id hold nothing; they are targets for every key whose
 *   preference list names them, even though the ring itself did not change.
 * - Entries go in batches of `rebalanceBatchEntries` entries or `rebalanceBatchBytes` bytes; each
 *   batch waits for the receiver's acknowledgement before the next is sent (backpressure), and
 *   the scan yields to the event loop every {@link SCAN_SLICE} keys so requests keep flowing.
 * - Holders that keep a key leave the sending to one of them: the first member of the key's OLD
 *   preference list that is still in the ring, alive and did not restart. Holders that lose the
 *   key always send it before dropping it ({@link isDesignatedSender}). A failed batch leaves its
 *   entries in place and the pass is retried.
 * - Reads stay correct meanwhile: an owner that misses a key asks the other owners (see the
 *   coordinator's read repair).
 */
import { EventEmitter } from 'eventemitter3';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { PeerConfig } from '../config.js';
import type { Version } from '../hlc.js';
import { compareVersions } from '../hlc.js';
import type { Logger } from '../logger.js';
import type { WireEntry } from '../protocol/peer-frames.js';
import type { HashRing } from '../ring/hash-ring.js';
import { entryBytes } from '../store/entry.js';
import type { LocalStore } from '../store/local-store.js';
import type { PeerLink } from '../transport/peer-link.js';
import { toWireEntry } from './wire-entry.js';

/**
 * True when this peer should send its copy of a key to the key's new owners.
 * - A holder that does not own the key under the new ring always sends: it drops its copy after
 *   the handoff, so it must not count on anyone else.
 * - A holder that keeps the key sends when it is the first member of the old preference list that
 *   is still in the ring, did not restart (restarted peers hold nothing) and is `alive` (a suspect
 *   is probably dead and would send nothing). Its fellow owners only keep their copies.
 * - A holder outside the old list (a stray copy), or when no old owner qualifies, sends.
 */
export function isDesignatedSender(
  self: string,
  oldOwners: readonly string[],
  newOwners: readonly string[],
  ring: HashRing,
  restarted: ReadonlySet<string>,
  isAlive: (peerId: string) => boolean,
): boolean {
  if (!newOwners.includes(self) || !oldOwners.includes(self)) return true;
  for (const id of oldOwners) {
    if (ring.has(id) && !restarted.has(id) && (id === self || isAlive(id))) return id === self;
  }
  return true;
}

/** Keys scanned between two yields to the event loop. */
export const SCAN_SLICE = 512;

/** Delay before a failed pass is retried, in ms. */
export const RETRY_DELAY_MS = 1000;

/** Summary of one rebalance pass. */
export interface RebalanceReport {
  /** Entries sent, per target peer. */
  sent: Record<string, number>;
  /** Total entries sent. */
  entries: number;
  /** Entries dropped locally because this peer no longer owns them. */
  dropped: number;
  /** Wall time of the pass in ms. */
  durationMs: number;
  /** False when a batch failed (the pass will be retried). */
  complete: boolean;
}

/** Events of the rebalancer. */
export interface RebalancerEvents {
  'rebalance:start': [info: { ringChecksum: string; baseChecksum: string }];
  'rebalance:done': [report: RebalanceReport];
}

/** What the rebalancer needs from its peer. */
export interface RebalancerComponents {
  selfId: string;
  store: LocalStore;
  ring: () => HashRing;
  /** True when membership says the peer is `alive` (not suspect, dead or left). */
  isAlive: (peerId: string) => boolean;
  /** The link to a peer, waiting a bounded time for it to come up. */
  awaitLink: (peerId: string, timeoutMs: number) => Promise<PeerLink | undefined>;
  logger: Logger;
}

type Config = Pick<PeerConfig, 'rebalanceBatchEntries' | 'rebalanceBatchBytes' | 'peerRequestTimeoutMs'>;

interface PassToken {
  cancelled: boolean;
}

interface Batch {
  entries: WireEntry[];
  bytes: number;
}

/** Streams entries to their new owners after ring changes. One per peer. */
export class Rebalancer extends EventEmitter<RebalancerEvents> {
  private base: HashRing | undefined;
  /** Keys whose batches failed in the last pass, and the ring that pass ran against. */
  private retry: { checksum: string; keys: string[] } | undefined;
  private readonly restarted = new Set<string>();
  private current: { token: PassToken; done: Promise<void> } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Totals since start. */
  readonly totals = { passes: 0, entriesSent: 0, entriesDropped: 0, failedBatches: 0 };

  constructor(
    private readonly components: RebalancerComponents,
    private readonly config: Config,
  ) {
    super();
  }

  /** True while a pass is running or a failed pass waits for its retry. */
  get running(): boolean {
    return this.current !== undefined || this.retryTimer !== undefined;
  }

  /**
   * Records a ring change and starts (or restarts) a pass.
   * @param previous the ring before the change (becomes the base if no pass has completed yet)
   * @param restartedPeers peers that came back empty with the same id
   */
  onRingChange(previous: HashRing, restartedPeers: readonly string[] = []): void {
    if (this.stopped) return;
    this.base ??= previous;
    for (const id of restartedPeers) this.restarted.add(id);
    this.startPass();
  }

  /**
   * Graceful leave: sends every local entry to the members that own it once this peer is gone.
   * Cancels any running pass first. Resolves with the report (it never throws).
   * @param without the ring without this peer
   */
  async handoffAll(without: HashRing): Promise<RebalanceReport> {
    await this.cancelCurrent();
    const base = this.base ?? this.components.ring();
    return this.runPass(base, without, new Set(this.restarted), { cancelled: false }, false);
  }

  /** Cancels the running pass and any retry timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.cancelCurrent();
  }

  private async cancelCurrent(): Promise<void> {
    const running = this.current;
    if (!running) return;
    running.token.cancelled = true;
    await running.done;
  }

  private startPass(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const previous = this.current;
    if (previous) previous.token.cancelled = true;
    const token: PassToken = { cancelled: false };
    const done = (async () => {
      if (previous) await previous.done;
      if (token.cancelled || this.stopped) return;
      const base = this.base ?? this.components.ring();
      const ring = this.components.ring();
      const restarted = new Set(this.restarted);
      const report = await this.runPass(base, ring, restarted, token, true);
      if (token.cancelled || this.stopped) return;
      if (report.complete) {
        this.base = ring;
        for (const id of restarted) this.restarted.delete(id);
      } else {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.startPass();
        }, RETRY_DELAY_MS);
        this.retryTimer.unref?.();
      }
    })().finally(() => {
      if (this.current?.token === token) this.current = undefined;
    });
    this.current = { token, done };
  }

  private async runPass(base: HashRing, ring: HashRing, restarted: ReadonlySet<string>, token: PassToken, dropUnowned: boolean): Promise<RebalanceReport> {
    const started = performance.now();
    const self = this.components.selfId;
    const store = this.components.store;
    const report: RebalanceReport = { sent: {}, entries: 0, dropped: 0, durationMs: 0, complete: true };
    if (base.checksum === ring.checksum && restarted.size === 0) {
      report.durationMs = Math.round(performance.now() - started);
      return report;
    }
    this.totals.passes++;
    this.emit('rebalance:start', { ringChecksum: ring.checksum, baseChecksum: base.checksum });
    const batches = new Map<string, Batch>();
    const failedKeys = new Set<string>();
    const toDrop: Array<[string, Version]> = [];
    // A retry against the same ring only needs the keys whose batches failed (or were never sent).
    const keys = this.retry && this.retry.checksum === ring.checksum && dropUnowned ? this.retry.keys : store.keys();
    this.retry = undefined;

    const flush = async (target: string): Promise<void> => {
      const batch = batches.get(target);
      if (!batch || batch.entries.length === 0) return;
      batches.delete(target);
      // A member learned by gossip is linked a moment later: wait for it rather than fail the batch.
      const link = await this.components.awaitLink(target, this.config.peerRequestTimeoutMs);
      try {
        if (!link) throw new Error(`no link to ${target}`);
        await link.request('handoff', { entries: batch.entries }, this.config.peerRequestTimeoutMs * 2);
        report.sent[target] = (report.sent[target] ?? 0) + batch.entries.length;
        report.entries += batch.entries.length;
        this.totals.entriesSent += batch.entries.length;
      } catch (error) {
        report.complete = false;
        this.totals.failedBatches++;
        for (const wire of batch.entries) failedKeys.add(wire[0]);
        this.components.logger.debug({ target, entries: batch.entries.length, err: (error as Error).message }, 'rebalance batch failed');
      }
    };

    let i = 0;
    for (; i < keys.length; i++) {
      if (token.cancelled) {
        report.complete = false;
        break;
      }
      if (i % SCAN_SLICE === SCAN_SLICE - 1) await yieldToEventLoop();
      const key = keys[i]!;
      const entry = store.peek(key);
      if (!entry) continue;
      const newOwners = ring.preferenceList(key);
      const oldOwners = base.preferenceList(key);
      if (isDesignatedSender(self, oldOwners, newOwners, ring, restarted, this.components.isAlive)) {
        // A stray copy (this peer was not an owner: it acted for an unreachable owner, or missed a
        // ring change) may be newer than the owners' copies: offer it to all of them.
        const stray = !oldOwners.includes(self);
        for (const target of newOwners) {
          if (target === self || (!stray && oldOwners.includes(target) && !restarted.has(target))) continue;
          let batch = batches.get(target);
          if (!batch) {
            batch = { entries: [], bytes: 0 };
            batches.set(target, batch);
          }
          batch.entries.push(toWireEntry(key, entry));
          batch.bytes += entryBytes(key, entry.value);
          if (batch.entries.length >= this.config.rebalanceBatchEntries || batch.bytes >= this.config.rebalanceBatchBytes) await flush(target);
        }
      }
      if (dropUnowned && !newOwners.includes(self)) toDrop.push([key, entry.version]);
    }
    for (const target of [...batches.keys()]) await flush(target);

    if (!token.cancelled) {
      for (const [key, version] of toDrop) {
        if (failedKeys.has(key)) continue;
        const entry = store.peek(key);
        // Only drop what was handed off: a newer write that arrived meanwhile stays until the next pass.
        if (entry && compareVersions(entry.version, version) === 0 && !this.components.ring().preferenceList(key).includes(self)) {
          store.delete(key);
          report.dropped++;
        }
      }
      this.totals.entriesDropped += report.dropped;
    }
    if (!report.complete && !token.cancelled) this.retry = { checksum: ring.checksum, keys: [...failedKeys, ...keys.slice(i)] };
    report.durationMs = Math.round(performance.now() - started);
    if (!token.cancelled) this.emit('rebalance:done', report);
    return report;
  }
}
