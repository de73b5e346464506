/**
 * Member records, as kept by the member list and exchanged by gossip.
 *
 * States follow SWIM (Das, Gupta & Motivala 2002) with the `left` state of memberlist/Serf:
 * `alive` -> `suspect` -> `dead`, and `left` for a graceful departure. Precedence between two
 * records about the same peer is decided by {@link supersedes}.
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

/**
 * True when `incoming` should replace `known`, the local record about the same member id
 * (`undefined` when the member is unknown: every record is then accepted). The precedence rules:
 *
 * | incoming            | accepted when (same generation)                                          |
 * |---------------------|--------------------------------------------------------------------------|
 * | any state           | `incoming.generation > known.generation` (a restart), even over dead/left |
 * | `alive`             | `incoming.incarnation > known.incarnation` and known is not `left`       |
 * | `suspect`           | known is `alive` and `incarnation >=`, or known is `suspect` and `>`     |
 * | `dead`              | known is `alive`/`suspect` and `incarnation >=`                          |
 * | `left`              | known is not `left` (left is final for a generation)                     |
 * | lower generation    | never                                                                    |
 *
 * Within one generation these are SWIM's rules (Das, Gupta & Motivala 2002, section 4.2) as
 * memberlist applies them in `aliveNode`/`suspectNode`/`deadNode`; `left` and the generation are
 * ringcache's additions (a graceful leave cannot be undone by stale gossip; a restarted process
 * starts again at incarnation 0 and must still win).
 */
export function supersedes(known: MemberRecord | undefined, incoming: MemberRecord): boolean {
  if (known === undefined) return true;
  if (incoming.generation !== known.generation) return incoming.generation > known.generation;
  switch (incoming.state) {
    case 'alive':
      return known.state !== 'left' && incoming.incarnation > known.incarnation;
    case 'suspect':
      return (
        (known.state === 'alive' && incoming.incarnation >= known.incarnation) ||
        (known.state === 'suspect' && incoming.incarnation > known.incarnation)
      );
    case 'dead':
      return isInRing(known.state) && incoming.incarnation >= known.incarnation;
    case 'left':
      return known.state !== 'left';
  }
}
