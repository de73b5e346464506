/**
 * The consistent-hashing ring: which peers hold a key.
 *
 * Algorithm: consistent hashing with virtual nodes (Karger et al., "Consistent Hashing and Random
 * Trees", STOC 1997), with the preference list of Amazon's Dynamo (DeCandia et al., SOSP 2007,
 * section 4.3): a key is held by the first `replicas` DISTINCT peers met walking clockwise from
 * the key's hash, the first of them being the primary.
 *
 * Placement is a pure function of the set of peer ids and the two options, so every peer that
 * sees the same members computes the same ring, and {@link HashRing.checksum} lets them check it.
 */
import { CacheError } from '../errors.js';
import { hashKey } from './key-hash.js';

/** Size of the hash space: hashes are unsigned 32-bit integers in [0, 2^32). */
const HASH_SPACE = 2 ** 32;

/** Most peers a ring can place: the build sorts `position * peerCount + index` exactly in a double. */
const MAX_PEERS = 2 ** 21;

/**
 * Version tag of the placement algorithm, folded into the checksum so that peers running an
 * incompatible placement never believe they agree.
 */
const PLACEMENT_VERSION = 'ringcache-ring/1';

/** Options of a {@link HashRing}. */
export interface HashRingOptions {
  /** Virtual nodes per peer: positions `hashKey(`${peerId}#${i}`)` for i in [0, vnodes). Integer >= 1. */
  vnodes: number;
  /** Length of a preference list when there are enough peers: copies of a key, the primary included. Integer >= 1. */
  replicas: number;
}

/**
 * An immutable consistent-hashing ring over a set of peer ids.
 *
 * Layout: `positions` holds every virtual node's hash, sorted ascending (ties ordered by peer id),
 * and `owners` the index into {@link peers} of each virtual node's peer. A key with hash `h` is
 * served from the first virtual node at a position >= h, wrapping to the first one past the top.
 * Each virtual node's preference list (owner indices) is precomputed at build time, so a lookup
 * is one binary search plus copying `replicas` strings.
 *
 * Cost: build O(P·V·log(P·V)) for P peers and V vnodes each; memory about (8 + 2·R) bytes per
 * virtual node for R = min(replicas, P); lookup O(log(P·V)).
 */
export class HashRing {
  /** The distinct peer ids, sorted by UTF-16 code units. */
  readonly peers: readonly string[];
  /** Virtual nodes per peer. */
  readonly vnodes: number;
  /** Configured replicas; lists are shorter when there are fewer peers. */
  readonly replicas: number;
  /**
   * 8 lowercase hex chars: MurmurHash3 of a canonical text of the placement version, vnodes,
   * replicas and the sorted ids. Equal rings have equal checksums; different ones differ except
   * for 32-bit collisions (about 1 in 4 billion), which is good enough to detect disagreement.
   */
  readonly checksum: string;

  /** Position of each virtual node, ascending. */
  private readonly positions: Uint32Array;
  /** Peer index of each virtual node (parallel to `positions`). */
  private readonly owners: Uint32Array;
  /** `listLength` peer indices per virtual node: the preference list starting at that node. */
  private readonly lists: Uint16Array | Uint32Array;
  /** min(replicas, peer count). */
  private readonly listLength: number;
  private readonly indexById: ReadonlyMap<string, number>;

  /**
   * Builds the ring. The order of `peerIds` does not matter and duplicates are ignored.
   * @param peerIds ids of the peers taking part in placement (alive and suspect members)
   * @param options `{vnodes, replicas}`, both integers >= 1
   * @throws CacheError BAD_CONFIG when `vnodes` or `replicas` is not an integer >= 1, or there
   *   are more than 2^21 distinct peers
   */
  constructor(peerIds: readonly string[], options: HashRingOptions) {
    const { vnodes, replicas } = options;
    if (!Number.isSafeInteger(vnodes) || vnodes < 1) {
      throw new CacheError('BAD_CONFIG', `ring vnodes: expected an integer >= 1, got ${String(vnodes)}`);
    }
    if (!Number.isSafeInteger(replicas) || replicas < 1) {
      throw new CacheError('BAD_CONFIG', `ring replicas: expected an integer >= 1, got ${String(replicas)}`);
    }
    // Default sort compares UTF-16 code units: locale-independent, so identical on every peer.
    const peers = Object.freeze([...new Set(peerIds)].sort());
    if (peers.length > MAX_PEERS) {
      throw new CacheError('BAD_CONFIG', `ring: at most ${MAX_PEERS} peers, got ${peers.length}`);
    }
    this.peers = peers;
    this.vnodes = vnodes;
    this.replicas = replicas;
    this.indexById = new Map(peers.map((id, index) => [id, index]));
    this.checksum = hashKey(JSON.stringify([PLACEMENT_VERSION, vnodes, replicas, peers])).toString(16).padStart(8, '0');

    const peerCount = peers.length;
    const nodeCount = peerCount * vnodes;
    // Sort (position, peer index) pairs as one number, position * peerCount + index: the index
    // order is the sorted id order, so position ties break by peer id. Exact while the product
    // stays below 2^53, hence MAX_PEERS.
    const keys = new Float64Array(nodeCount);
    for (let p = 0, n = 0; p < peerCount; p++) {
      const prefix = `${peers[p]!}#`;
      for (let i = 0; i < vnodes; i++, n++) keys[n] = hashKey(prefix + i) * peerCount + p;
    }
    keys.sort();
    const positions = new Uint32Array(nodeCount);
    const owners = new Uint32Array(nodeCount);
    for (let n = 0; n < nodeCount; n++) {
      const key = keys[n]!;
      const owner = key % peerCount;
      owners[n] = owner;
      positions[n] = (key - owner) / peerCount;
    }
    this.positions = positions;
    this.owners = owners;

    const listLength = Math.min(replicas, peerCount);
    // Two bytes per entry while peer indices fit: this table is the ring's largest.
    const lists = peerCount <= 0x10000 ? new Uint16Array(nodeCount * listLength) : new Uint32Array(nodeCount * listLength);
    // seenAt[p] === n + 1 marks peer p as already in node n's list, so no clearing between nodes.
    const seenAt = new Uint32Array(peerCount);
    for (let n = 0; n < nodeCount; n++) {
      let found = 0;
      for (let step = 0; found < listLength; step++) {
        const owner = owners[(n + step) % nodeCount]!;
        if (seenAt[owner] !== n + 1) {
          seenAt[owner] = n + 1;
          lists[n * listLength + found++] = owner;
        }
      }
    }
    this.lists = lists;
    this.listLength = listLength;
  }

  /** Number of distinct peers. */
  get size(): number {
    return this.peers.length;
  }

  /** True when `peerId` is on the ring. */
  has(peerId: string): boolean {
    return this.indexById.has(peerId);
  }

  /**
   * The peers that hold `key`: the first `min(replicas, size)` distinct peers clockwise from
   * `hashKey(key)`. The first is the primary, the rest its replicas. Empty when the ring is empty.
   */
  preferenceList(key: string): string[] {
    return this.preferenceListForHash(hashKey(key));
  }

  /**
   * {@link preferenceList} for a precomputed hash.
   * @param hash an unsigned 32-bit hash (other numbers are reduced modulo 2^32 with `>>> 0`)
   */
  preferenceListForHash(hash: number): string[] {
    if (this.positions.length === 0) return [];
    const start = this.nodeFor(hash >>> 0) * this.listLength;
    const list = new Array<string>(this.listLength);
    for (let r = 0; r < this.listLength; r++) list[r] = this.peers[this.lists[start + r]!]!;
    return list;
  }

  /** The primary of `key` (first of its preference list), or undefined on an empty ring. */
  primary(key: string): string | undefined {
    return this.primaryForHash(hashKey(key));
  }

  /**
   * {@link primary} for a precomputed hash.
   * @param hash an unsigned 32-bit hash (other numbers are reduced modulo 2^32 with `>>> 0`)
   */
  primaryForHash(hash: number): string | undefined {
    if (this.positions.length === 0) return undefined;
    return this.peers[this.owners[this.nodeFor(hash >>> 0)]!];
  }

  /**
   * The fraction of the 2^32 hash space each peer serves as primary, for every peer (sorted by
   * id). The fractions are exact multiples of 2^-32 and sum to exactly 1; empty ring: empty map.
   */
  ownership(): Map<string, number> {
    const arcs = new Float64Array(this.peers.length);
    const positions = this.positions;
    const count = positions.length;
    if (count > 0) {
      // Node n serves the hashes in (positions[n - 1], positions[n]]; node 0 also serves the
      // wrap-around above the last position.
      arcs[this.owners[0]!] += HASH_SPACE - positions[count - 1]! + positions[0]!;
      for (let n = 1; n < count; n++) arcs[this.owners[n]!] += positions[n]! - positions[n - 1]!;
    }
    return new Map(this.peers.map((id, index) => [id, arcs[index]! / HASH_SPACE]));
  }

  /** Index of the virtual node serving `hash`: the first position >= hash, wrapping to 0. */
  private nodeFor(hash: number): number {
    const positions = this.positions;
    let low = 0;
    let high = positions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (positions[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return low === positions.length ? 0 : low;
  }
}
