/**
 * The typed events of a peer, from one place: the console, client `watch` subscriptions and the
 * logs all consume these (`noun:verb` names, as in libp2p).
 */
import type { EventEmitter } from 'eventemitter3';
import type { MemberChange } from './membership/member-list.js';
import type { RebalanceReport } from './replication/rebalancer.js';
import type { RingView } from './ring/ring-view.js';

/** Event map of a {@link Peer}. */
export interface PeerEvents {
  /** A member joined (or restarted with the same id). */
  'member:join': [change: MemberChange];
  /** A suspect member refuted its suspicion. */
  'member:alive': [change: MemberChange];
  /** A member became suspect. */
  'member:suspect': [change: MemberChange];
  /** A member was declared dead. */
  'member:dead': [change: MemberChange];
  /** A member left gracefully. */
  'member:leave': [change: MemberChange];
  /** Any change of a member's record (fired after the specific event). */
  'member:update': [change: MemberChange];
  /** The ring changed (membership of the ring, not just a state flip between alive and suspect). */
  'ring:change': [ring: RingView];
  /** A rebalance pass started. */
  'rebalance:start': [info: { ringChecksum: string; baseChecksum: string }];
  /** A rebalance pass ended. */
  'rebalance:done': [report: RebalanceReport];
}

/** Something that emits {@link PeerEvents} (the peer itself). */
export type PeerEventSource = EventEmitter<PeerEvents>;
