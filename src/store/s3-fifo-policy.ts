/**
 * S3-FIFO: J. Yang, Y. Zhang, Z. Qiu, Y. Yue & R. Vinayak, "FIFO queues are all you need for
 * cache eviction", SOSP 2023.
 *
 * Three FIFO queues: a small queue S (10% of the capacity) that every new entry enters, a main
 * queue M (the other 90%), and a ghost queue G of the hashes of keys recently evicted from S
 * (as many as M holds entries). Each entry has a 2-bit read counter, capped at 3.
 *
 * - insert: into M when the key's hash is in G (it came back soon after leaving: not a one-hit
 *   wonder), else into S;
 * - hit: counter + 1 (no list movement: this is what makes reads cheap);
 * - evict: from S while S is over its share (or M is empty), else from M.
 *   S's tail moves to M when it was read at least {@link MOVE_TO_MAIN_THRESHOLD} times since it
 *   came in; otherwise it leaves the cache and its hash enters G — one-hit wonders leave through
 *   the small queue, which is what makes a scan unable to flush M.
 *   M's tail is reinserted at M's head with its counter minus one while the counter is above
 *   zero (a CLOCK-like second chance), else evicted.
 *
 * Sizes are in the unit of the capacity (entries or bytes); the ghost holds hashes, not keys, so
 * a collision can send a new key to M (harmless). When the capacity is in bytes the ghost's
 * length follows the number of slots (an upper bound on the entries held).
 */
import type { SlotPolicy } from './slot-policy.js';
import { SlotLists, growInt32, growUint8 } from './slot-lists.js';

const SMALL = 0;
const MAIN = 1;
/** Share of the capacity that the small queue may hold before it is evicted from. */
export const S3_FIFO_SMALL_RATIO = 0.1;
/** Reads in S that earn a move to M rather than eviction (the paper: "accessed more than once"... see the module comment). */
export const MOVE_TO_MAIN_THRESHOLD = 1;
const MAX_FREQ = 3;

/**
 * The ghost queue: a FIFO of key hashes with O(1) membership, on typed arrays. A direct-mapped
 * table keyed by the hash holds the hash and the sequence number it was added at; a hash is in
 * the queue while fewer than `capacity` hashes were added after it. Two hashes sharing a bucket
 * evict each other (the table has 2x the capacity in buckets, so that stays rare): the ghost
 * forgets a few keys early, which only costs a few hits.
 */
class GhostQueue {
  private hashes: Int32Array;
  private seqs: Float64Array;
  private mask: number;
  capacity: number;
  private seq = 1;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
    let buckets = 1;
    while (buckets < 2 * this.capacity) buckets *= 2;
    this.hashes = new Int32Array(buckets);
    this.seqs = new Float64Array(buckets);
    this.mask = buckets - 1;
  }

  add(hash: number): void {
    const i = (hash ^ (hash >>> 15)) & this.mask;
    this.hashes[i] = hash;
    this.seqs[i] = this.seq++;
  }

  /** True when `hash` is in the queue; removes it (a ghost hit is consumed). */
  take(hash: number): boolean {
    const i = (hash ^ (hash >>> 15)) & this.mask;
    const s = this.seqs[i]!;
    if (s === 0 || this.hashes[i] !== hash || this.seq - s > this.capacity) return false;
    this.seqs[i] = 0;
    return true;
  }

  clear(): void {
    this.seqs.fill(0);
    this.seq = 1;
  }
}

export class S3FifoPolicy implements SlotPolicy {
  readonly name = 's3-fifo' as const;
  private readonly lists: SlotLists;
  private freq: Uint8Array;
  private hashes: Int32Array;
  private weights: Float64Array;
  private smallWeight = 0;
  private readonly smallMax: number;
  private ghost: GhostQueue;
  /** True when the ghost's size follows the slot count (the capacity is in bytes). */
  private readonly ghostFollowsSlots: boolean;

  /**
   * @param capacity the store's capacity, in the unit of the weights
   * @param slots initial number of slots
   * @param entryCapacity the capacity in entries when known (sizes the ghost queue: 90% of it);
   *   otherwise the ghost follows the number of slots
   */
  constructor(capacity: number, slots: number, entryCapacity?: number) {
    this.lists = new SlotLists(2, slots);
    this.freq = new Uint8Array(slots);
    this.hashes = new Int32Array(slots);
    this.weights = new Float64Array(slots);
    this.smallMax = capacity * S3_FIFO_SMALL_RATIO;
    this.ghostFollowsSlots = entryCapacity === undefined;
    this.ghost = new GhostQueue(Math.ceil((entryCapacity ?? slots) * (1 - S3_FIFO_SMALL_RATIO)));
  }

  grow(slots: number): void {
    if (slots <= this.freq.length) return;
    this.lists.grow(slots);
    this.freq = growUint8(this.freq, slots, 0);
    this.hashes = growInt32(this.hashes, slots, 0);
    const w = new Float64Array(slots);
    w.set(this.weights);
    this.weights = w;
    if (this.ghostFollowsSlots) this.ghost = new GhostQueue(Math.ceil(slots * (1 - S3_FIFO_SMALL_RATIO)));
  }

  onInsert(slot: number, hash: number, weight: number): void {
    this.freq[slot] = 0;
    this.hashes[slot] = hash;
    this.weights[slot] = weight;
    if (this.ghost.take(hash)) {
      this.lists.pushHead(MAIN, slot);
    } else {
      this.lists.pushHead(SMALL, slot);
      this.smallWeight += weight;
    }
  }

  onHit(slot: number): void {
    const f = this.freq[slot]!;
    if (f < MAX_FREQ) this.freq[slot] = f + 1;
  }

  onUpdate(slot: number, oldWeight: number, newWeight: number): void {
    this.weights[slot] = newWeight;
    if (this.lists.list[slot] === SMALL) this.smallWeight += newWeight - oldWeight;
    this.onHit(slot);
  }

  onRemove(slot: number): void {
    if (this.lists.list[slot] === SMALL) this.smallWeight -= this.weights[slot]!;
    this.lists.unlink(slot);
  }

  evict(): number {
    const lists = this.lists;
    if (this.smallWeight > this.smallMax || lists.counts[MAIN] === 0) {
      const victim = this.evictSmall();
      if (victim !== -1) return victim;
    }
    return this.evictMain();
  }

  clear(): void {
    this.lists.clear();
    this.ghost.clear();
    this.smallWeight = 0;
  }

  /** Which queue `slot` is in: 'small', 'main' or undefined (for tests). */
  queueOf(slot: number): 'small' | 'main' | undefined {
    const l = this.lists.list[slot];
    return l === SMALL ? 'small' : l === MAIN ? 'main' : undefined;
  }

  /** Moves read entries from S's tail to M until one unread entry leaves (returned), or S is empty (-1). */
  private evictSmall(): number {
    const lists = this.lists;
    for (;;) {
      const tail = lists.tails[SMALL]!;
      if (tail === -1) return -1;
      lists.unlink(tail);
      this.smallWeight -= this.weights[tail]!;
      if (this.freq[tail]! >= MOVE_TO_MAIN_THRESHOLD) {
        lists.pushHead(MAIN, tail);
      } else {
        this.ghost.add(this.hashes[tail]!);
        return tail;
      }
    }
  }

  /** Gives M's read entries a second chance (counter - 1) until an unread one is found and removed. */
  private evictMain(): number {
    const lists = this.lists;
    for (;;) {
      const tail = lists.tails[MAIN]!;
      if (tail === -1) return -1;
      const f = this.freq[tail]!;
      if (f > 0) {
        this.freq[tail] = f - 1;
        lists.moveToHead(MAIN, tail);
      } else {
        lists.unlink(tail);
        return tail;
      }
    }
  }
}
