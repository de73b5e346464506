/**
 * The ring as clients see it (`ring` replies and `ring` watch events):
 * `{epoch, checksum, replicas, vnodes, self, peers: [{id, url, state, incarnation, ownership}]}`.
 */
import type { MemberRecord, MemberState } from '../membership/member.js';
import type { HashRing } from './hash-ring.js';

/** One peer in a {@link RingView}. `ownership` is the fraction of the hash space it holds as primary (0 to 1). */
export interface RingPeerView {
  id: string;
  url: string;
  state: MemberState;
  incarnation: number;
  ownership: number;
}

/** The ring as seen by one peer. */
export interface RingView {
  /** Local counter, incremented on every change of this peer's ring (not comparable across peers). */
  epoch: number;
  /** Digest of the ring's membership and parameters: equal on peers that agree on the ring. */
  checksum: string;
  /** Replication factor: copies of each key, the primary included. */
  replicas: number;
  /** Virtual nodes per peer. */
  vnodes: number;
  /** Id of the peer that produced this view. */
  self: string;
  /** Every known member (dead and left ones while they are remembered), sorted by id. */
  peers: RingPeerView[];
}

/** Builds the client view of a ring from the ring and the member records. */
export function describeRing(ring: HashRing, members: readonly MemberRecord[], epoch: number, selfId: string): RingView {
  const ownership = ring.ownership();
  const peers = members
    .map((m) => ({ id: m.id, url: m.url, state: m.state, incarnation: m.incarnation, ownership: ownership.get(m.id) ?? 0 }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { epoch, checksum: ring.checksum, replicas: ring.replicas, vnodes: ring.vnodes, self: selfId, peers };
}
