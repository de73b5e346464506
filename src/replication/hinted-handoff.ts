/**
 * Hinted handoff: when a write cannot reach one of its replicas (a link blip, a peer not yet
 * declared dead), the owner remembers the key for that peer and sends the entry's current copy
 * as soon as a link to it is up again. Without it, a primary that missed a write made by an
 * acting replica would keep serving the older value. Source: Amazon Dynamo (DeCandia et al.,
 * SOSP 2007), section 4.6.
 *
 * Hints are delivered when a link to the peer comes up, and retried by the peer's housekeeping
 * (every second) while the link is up, so a `replicate` that timed out on a link that stayed open
 * is repaired too. They are in memory and bounded (`maxHintsPerPeer`; keys over the bound stay
 * stale on that replica until written again or moved by a ring change); they are dropped when the
 * peer is declared dead or leaves, because rebalancing then gives its keys to new owners.
 */
import type { PeerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { WireEntry } from '../protocol/peer-frames.js';
import { entryBytes } from '../store/entry.js';
import type { LocalStore } from '../store/local-store.js';
import type { PeerLink } from '../transport/peer-link.js';
import { toWireEntry } from './wire-entry.js';

/** What hinted handoff needs from its peer. */
export interface HintedHandoffComponents {
  store: LocalStore;
  link: (peerId: string) => PeerLink | undefined;
  logger: Logger;
}

type Config = Pick<PeerConfig, 'maxHintsPerPeer' | 'peerRequestTimeoutMs' | 'rebalanceBatchEntries' | 'rebalanceBatchBytes'>;

/** Keys owed to peers that missed writes. One per peer. */
export class HintedHandoff {
  private readonly hints = new Map<string, Set<string>>();
  private readonly delivering = new Set<string>();
  /** Totals since start. */
  readonly totals = { hinted: 0, delivered: 0, droppedOverLimit: 0 };

  constructor(
    private readonly components: HintedHandoffComponents,
    private readonly config: Config,
  ) {}

  /** Hints currently held, over all peers. */
  get size(): number {
    let n = 0;
    for (const keys of this.hints.values()) n += keys.size;
    return n;
  }

  /** Remembers that `peerId` missed a write of `key`. */
  add(peerId: string, key: string): void {
    let keys = this.hints.get(peerId);
    if (!keys) {
      keys = new Set();
      this.hints.set(peerId, keys);
    }
    if (keys.has(key)) return;
    if (keys.size >= this.config.maxHintsPerPeer) {
      this.totals.droppedOverLimit++;
      return;
    }
    keys.add(key);
    this.totals.hinted++;
  }

  /** Peers that have hints waiting. */
  peers(): string[] {
    return [...this.hints.keys()];
  }

  /** Forgets every hint for a peer (it was declared dead or left). */
  drop(peerId: string): void {
    this.hints.delete(peerId);
  }

  /**
   * Sends the current local copy of every hinted key to `peerId`, in batches of
   * `rebalanceBatchEntries`, each acknowledged before the next. Keys of failed batches stay hinted.
   */
  async deliver(peerId: string): Promise<void> {
    const keys = this.hints.get(peerId);
    if (!keys || keys.size === 0 || this.delivering.has(peerId)) return;
    this.delivering.add(peerId);
    try {
      const pending = [...keys];
      let next = 0;
      while (next < pending.length) {
        const link = this.components.link(peerId);
        if (!link) return;
        // A batch is bounded by entries and by bytes, like a rebalance batch, so it fits a frame.
        const slice: string[] = [];
        const entries: WireEntry[] = [];
        let bytes = 0;
        while (next < pending.length && entries.length < this.config.rebalanceBatchEntries && bytes < this.config.rebalanceBatchBytes) {
          const key = pending[next++]!;
          slice.push(key);
          const entry = this.components.store.peek(key);
          if (!entry) continue;
          entries.push(toWireEntry(key, entry));
          bytes += entryBytes(key, entry.value);
        }
        if (entries.length > 0) await link.request('replicate', { entries }, this.config.peerRequestTimeoutMs);
        for (const key of slice) keys.delete(key);
        this.totals.delivered += entries.length;
      }
      if (keys.size === 0) this.hints.delete(peerId);
    } catch (error) {
      this.components.logger.debug({ peer: peerId, err: (error as Error).message }, 'hint delivery failed; will retry on the next link');
    } finally {
      this.delivering.delete(peerId);
    }
  }
}
