/**
 * The piggyback broadcast queue: membership updates waiting to ride on outgoing messages.
 *
 * SWIM (Das, Gupta & Motivala 2002) section 4.1 disseminates updates by piggybacking them on the
 * failure detector's pings and acks, each a bounded number of times; memberlist's
 * `TransmitLimitedQueue` (`queue.go`) is the model: least-transmitted first, a newer update about
 * a member invalidates the older, and an update is dropped after
 * `retransmitLimit(config, members)` transmissions.
 */
import { retransmitLimit, type PeerConfig } from '../config.js';
import { supersedes, type MemberRecord } from './member.js';

interface Queued {
  record: MemberRecord;
  /** Times taken so far. */
  transmits: number;
  /** Enqueue order; among equally transmitted records the newest goes first. */
  seq: number;
}

/** At most one pending update per member id, each sent a bounded number of times. */
export class GossipQueue {
  private readonly queued = new Map<string, Queued>();
  private seq = 0;

  /** @param config `retransmitMult`, the multiplier of {@link retransmitLimit} */
  constructor(private readonly config: Pick<PeerConfig, 'retransmitMult'>) {}

  /** Number of records waiting. */
  get size(): number {
    return this.queued.size;
  }

  /**
   * Queues `record` for piggybacking, replacing a queued record about the same member id unless
   * the queued one is newer (see {@link supersedes}); a replaced record's transmit count restarts
   * at 0. Returns false when `record` was older than (or identical to) the one already queued.
   */
  enqueue(record: MemberRecord): boolean {
    const existing = this.queued.get(record.id);
    if (existing !== undefined && !supersedes(existing.record, record)) return false;
    this.queued.set(record.id, { record, transmits: 0, seq: ++this.seq });
    return true;
  }

  /**
   * Takes up to `maxCount` records for one outgoing message: the least-transmitted first (the
   * newest among equals). Each taken record's transmit count goes up by one, and a record that
   * has now been sent `retransmitLimit(config, memberCount)` times leaves the queue.
   *
   * @param maxCount most records to return (0 or less returns none)
   * @param memberCount members in the cluster, which scales the retransmit limit
   */
  take(maxCount: number, memberCount: number): MemberRecord[] {
    if (maxCount <= 0 || this.queued.size === 0) return [];
    const limit = retransmitLimit(this.config, memberCount);
    const chosen = [...this.queued.values()].sort((a, b) => a.transmits - b.transmits || b.seq - a.seq).slice(0, maxCount);
    for (const item of chosen) {
      item.transmits++;
      if (item.transmits >= limit) this.queued.delete(item.record.id);
    }
    return chosen.map((item) => item.record);
  }

  /** Drops every queued record. */
  clear(): void {
    this.queued.clear();
  }
}
