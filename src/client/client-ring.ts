/**
 * The client's copy of the cluster's ring, for `routing: 'ring'`: which peer is the primary of a
 * key, so a request goes straight to it instead of being forwarded by whichever peer received it.
 *
 * A peer's ring is a {@link HashRing} over the ids of its members in the ring (alive and suspect,
 * see `isInRing`), with vnode positions derived from the ids alone. A `ring` reply or event
 * carries those members with their URLs plus `vnodes` and `replicas`, so the client rebuilds the
 * very same ring (same placement, same checksum) the answering peer routes by. This is the
 * slot-map cache of a Redis Cluster client (ioredis `lib/cluster/`), with consistent hashing
 * (Karger et al., STOC 1997) in place of hash slots.
 *
 * A copy can be stale (a join or a death not yet seen): a request then reaches a peer that is no
 * longer the primary, which forwards it. Staleness costs a hop, never correctness.
 *
 * Browser-safe: imports only the pure ring and hash modules.
 */
import { isInRing, type MemberState } from '../membership/member.js';
import { HashRing } from '../ring/hash-ring.js';
import { tryNormalizeUrl } from './peer-url.js';

/** The part of a ring snapshot (`ring` reply or event) the client routes by. */
export interface RingSnapshot {
  /** The answering peer's ring checksum (see {@link HashRing.checksum}). */
  checksum: string;
  /** Copies of each key, the primary included (integer >= 1). */
  replicas: number;
  /** Virtual nodes per peer (integer >= 1). */
  vnodes: number;
  /** Every member the answering peer knows: `{id, url, state}`. */
  peers: ReadonlyArray<{ id: string; url: string; state: MemberState }>;
}

/** One member as the client ring keeps it: its normalized URL (undefined when unusable) and state. */
interface RingMember {
  url: string | undefined;
  state: MemberState;
}

/** The keys (or entries) of a multi-key call that share a primary, by their indices in the call. */
export interface PrimaryGroup {
  /** The primary's normalized URL, or undefined when the ring has no usable URL for it. */
  url: string | undefined;
  /** Indices into the call's keys, ascending. */
  indices: number[];
}

/** An immutable client-side ring: placement plus the members' URLs. */
export class ClientRing {
  /** Checksum of the ring rebuilt here; equal to the peers' when the placement agrees. */
  readonly checksum: string;
  /** Virtual nodes per peer. */
  readonly vnodes: number;
  /** Copies of each key. */
  readonly replicas: number;

  private readonly ring: HashRing;
  private readonly members: ReadonlyMap<string, RingMember>;

  private constructor(members: ReadonlyMap<string, RingMember>, vnodes: number, replicas: number) {
    const ids = [...members].filter(([, member]) => isInRing(member.state)).map(([id]) => id);
    this.ring = new HashRing(ids, { vnodes, replicas });
    this.members = members;
    this.vnodes = vnodes;
    this.replicas = replicas;
    this.checksum = this.ring.checksum;
  }

  /**
   * Rebuilds the ring of a snapshot.
   * @throws CacheError BAD_CONFIG when `vnodes` or `replicas` is not an integer >= 1 (a malformed
   *   snapshot; the caller keeps its previous ring)
   */
  static fromSnapshot(snapshot: RingSnapshot): ClientRing {
    const members = new Map<string, RingMember>();
    for (const peer of snapshot.peers) members.set(peer.id, { url: tryNormalizeUrl(peer.url), state: peer.state });
    return new ClientRing(members, snapshot.vnodes, snapshot.replicas);
  }

  /**
   * The ring after a `member` event: the member's URL and state replaced.
   * @returns the new ring, or undefined when the event changes neither the ring's members nor
   *   their URLs (most events: a refuted suspicion, a dead member's record expiring)
   */
  withMember(id: string, url: string, state: MemberState): ClientRing | undefined {
    const known = this.members.get(id);
    const next: RingMember = { url: tryNormalizeUrl(url), state };
    const wasIn = known !== undefined && isInRing(known.state);
    const isIn = isInRing(state);
    // Only members on the ring, and their URLs, matter to routing.
    if (!wasIn && !isIn) return undefined;
    if (wasIn && isIn && known.url === next.url) return undefined;
    const members = new Map(this.members);
    members.set(id, next);
    return new ClientRing(members, this.vnodes, this.replicas);
  }

  /** Number of peers on the ring. */
  get size(): number {
    return this.ring.size;
  }

  /** The primary's id for `key`, or undefined on an empty ring. */
  primaryOf(key: string): string | undefined {
    return this.ring.primary(key);
  }

  /** The primary's normalized URL for `key`, or undefined on an empty ring or an unusable URL. */
  primaryUrl(key: string): string | undefined {
    const id = this.ring.primary(key);
    return id === undefined ? undefined : this.members.get(id)?.url;
  }

  /** The normalized URLs of the peers on the ring. */
  urls(): Set<string> {
    const urls = new Set<string>();
    for (const id of this.ring.peers) {
      const url = this.members.get(id)?.url;
      if (url !== undefined) urls.add(url);
    }
    return urls;
  }

  /**
   * Groups keys by primary, for splitting `mget`/`mset`: one group per distinct primary URL, in
   * order of first appearance, each with the indices of its keys in ascending order.
   */
  groupByPrimary(keys: readonly string[]): PrimaryGroup[] {
    const groups = new Map<string | undefined, PrimaryGroup>();
    keys.forEach((key, index) => {
      const url = this.primaryUrl(key);
      let group = groups.get(url);
      if (!group) {
        group = { url, indices: [] };
        groups.set(url, group);
      }
      group.indices.push(index);
    });
    return [...groups.values()];
  }
}
