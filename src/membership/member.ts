/**
 * Member records, as kept by the member list and exchanged by gossip.
 *
 * States follow SWIM (Das, Gupta & Motivala 2002) with the `left` state of memberlist/Serf:
 * `alive` -> `suspect` -> `dead`, and `left` for a graceful departure. Precedence between two
 * records about the same peer is decided by {@link compareMemberRecords}.
 */

/** The SWIM state of a member. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** All member states, in a fixed order. */
export const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** One member as gossiped: `{id, url, state, incarnation, generation}`. */
export interface MemberRecord {
  /** Peer id, unique in the cluster. */
  id: string;
  /** The peer's advertised WebSocket URL (`ws://host:port`). */
  url: string;
  /** SWIM state. */
  state: MemberState;
  /**
   * Incarnation number: only the member itself increments it, to refute a suspicion
   * (SWIM section 4.2). Starts at 0 for every generation.
   */
  incarnation: number;
  /**
   * Start time of the member's process in ms since the Unix epoch. A restarted process with the
   * same id has a higher generation, and a record of a higher generation supersedes every record
   * of a lower one (as Cassandra's gossip generation does): this is how a restarted peer rejoins.
   */
  generation: number;
}

/** True when the member takes part in the ring (placement): alive or suspect. */
export function isInRing(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}
