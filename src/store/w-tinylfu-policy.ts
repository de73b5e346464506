/**
 * W-TinyLFU with an adaptive window: G. Einziger, R. Friedman & B. Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", ACM Transactions on Storage 2017; the window is sized by
 * hill climbing as in G. Einziger, O. Eytan, R. Friedman & B. Manes, "Adaptive Software Cache
 * Management", Middleware 2018, and Caffeine's `BoundedLocalCache.climb`.
 *
 * - A window LRU (1% of the capacity at first) takes every new entry.
 * - The main space is a segmented LRU: probation (initially 20% of main) and protected (80%).
 *   A probation hit promotes to protected; protected's overflow is demoted to probation's MRU end.
 * - Admission: an entry pushed out of the window (the candidate) enters probation; when the cache
 *   must evict, the candidate duels probation's LRU entry (the victim) by the estimated frequency
 *   of a {@link FrequencySketch} (incremented on every insert and hit): the candidate is admitted
 *   only when strictly more frequent, so a cold new key is rejected against a hot victim. As in
 *   Caffeine, a candidate with an estimate above 5 that loses is still admitted 1 time in 128
 *   (so an attacker cannot pin a victim with colliding hashes).
 * - Adaptive window: hits and misses (inserts) are counted over samples of `10 x capacity`
 *   requests; after each sample the window grows or shrinks by a step (initially 6.25% of the
 *   capacity, shrinking first) in the direction that last improved the hit rate, the step decaying
 *   by 0.98 per sample and restarting when the hit rate moves by 5 points or more. Entries move
 *   between the window and probation to follow (at most 1,000 per adjustment).
 *
 * Sizes are in the unit of the capacity (entries or bytes).
 */
import { FrequencySketch } from './frequency-sketch.js';
import type { SlotPolicy } from './slot-policy.js';
import { SlotLists } from './slot-lists.js';
import { Float64Column, Int32Column } from './slot-columns.js';

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/** Initial share of the capacity given to the window. */
export const W_TINYLFU_WINDOW_RATIO = 0.01;
/** Share of the main space given to the protected segment. */
export const W_TINYLFU_PROTECTED_RATIO = 0.8;
const STEP_PERCENT = 0.0625;
const STEP_DECAY = 0.98;
const RESTART_THRESHOLD = 0.05;
const TRANSFER_LIMIT = 1000;
const HASHDOS_THRESHOLD = 5;

export class WTinyLfuPolicy implements SlotPolicy {
  readonly name = 'w-tinylfu' as const;
  private readonly lists: SlotLists;
  private readonly hashes: Int32Column;
  private readonly weights: Float64Column;
  private sketch: FrequencySketch;
  /**
   * The slot count the sketch was last sized for when no entry capacity is known (a store bounded
   * in bytes), else 0: the sketch then follows the slots, rebuilt when they double (as Caffeine's
   * `ensureCapacity` rebuilds it on a resize). Sized once for the first slots, a peer's sketch
   * stayed at 1,024 entries' worth of counters and aged every 10,240 increments whatever the
   * store held.
   */
  private sketchSlots: number;
  private readonly capacity: number;
  /** Weight held per list. */
  private readonly held = new Float64Array(3);
  private windowMax: number;
  private protectedMax: number;
  /** The entry most recently pushed out of the window into probation, awaiting its duel; -1 when none. */
  private candidate = -1;
  private hitsInSample = 0;
  private missesInSample = 0;
  private previousHitRate = 0;
  private stepSize: number;
  private adjustment = 0;
  private random = 0x2545f491;
  /** Whether the window adapts; fixed-window W-TinyLFU when false (for comparison). */
  private readonly adaptive: boolean;

  /**
   * @param capacity the store's capacity, in the unit of the weights
   * @param slots initial number of slots
   * @param entryCapacity the capacity in entries when known (sizes the sketch); else the slot count
   * @param adaptive hill-climb the window size (default true)
   */
  constructor(capacity: number, slots: number, entryCapacity?: number, adaptive = true) {
    this.lists = new SlotLists(3, slots);
    this.hashes = new Int32Column(0, slots);
    this.weights = new Float64Column(0, slots);
    this.capacity = capacity;
    this.sketch = new FrequencySketch(entryCapacity ?? Math.max(slots, 16));
    this.sketchSlots = entryCapacity === undefined ? Math.max(slots, 16) : 0;
    this.windowMax = Math.max(1, Math.floor(capacity * W_TINYLFU_WINDOW_RATIO));
    this.protectedMax = Math.floor((capacity - this.windowMax) * W_TINYLFU_PROTECTED_RATIO);
    this.stepSize = -STEP_PERCENT * capacity;
    this.adaptive = adaptive;
  }

  grow(slots: number): void {
    this.lists.grow(slots);
    this.hashes.grow(slots);
    this.weights.grow(slots);
    if (this.sketchSlots !== 0 && slots >= 2 * this.sketchSlots) {
      this.sketchSlots = slots;
      this.sketch = new FrequencySketch(slots);
    }
  }

  onInsert(slot: number, hash: number, weight: number): void {
    this.hashes.set(slot, hash);
    this.weights.set(slot, weight);
    this.sketch.increment(hash);
    this.lists.pushHead(WINDOW, slot);
    this.held[WINDOW]! += weight;
    this.missesInSample += 1;
    // Window overflow enters probation; the last one moved is the candidate of the next duel.
    const lists = this.lists;
    while (this.held[WINDOW]! > this.windowMax && lists.counts[WINDOW]! > 1) {
      const moved = lists.tails[WINDOW]!;
      this.transfer(moved, WINDOW, PROBATION);
      this.candidate = moved;
    }
    if (this.adaptive && this.hitsInSample + this.missesInSample >= this.sketch.sampleSize) this.climb();
  }

  onHit(slot: number): void {
    this.sketch.increment(this.hashes.get(slot));
    this.hitsInSample += 1;
    this.touch(slot);
  }

  onUpdate(slot: number, oldWeight: number, newWeight: number): void {
    this.weights.set(slot, newWeight);
    const l = this.lists.list.get(slot);
    this.held[l]! += newWeight - oldWeight;
    this.sketch.increment(this.hashes.get(slot));
    this.touch(slot);
  }

  onRemove(slot: number): void {
    const l = this.lists.list.get(slot);
    if (l > PROTECTED) return;
    this.held[l]! -= this.weights.get(slot);
    this.lists.unlink(slot);
    if (slot === this.candidate) this.candidate = -1;
  }

  evict(): number {
    const lists = this.lists;
    const victim = lists.tails[PROBATION]!;
    const candidate = this.candidate;
    this.candidate = -1;
    if (candidate !== -1 && victim !== -1 && candidate !== victim && lists.list.get(candidate) === PROBATION) {
      const loser = this.admit(candidate, victim) ? victim : candidate;
      this.drop(loser);
      return loser;
    }
    for (let l = PROBATION; ; l = l === PROBATION ? PROTECTED : l === PROTECTED ? WINDOW : -1) {
      if (l === -1) return -1;
      const tail = lists.tails[l]!;
      if (tail !== -1) {
        this.drop(tail);
        return tail;
      }
    }
  }

  clear(): void {
    this.lists.clear();
    this.sketch.clear();
    this.held.fill(0);
    this.candidate = -1;
    this.hitsInSample = 0;
    this.missesInSample = 0;
  }

  /** Which segment `slot` is in (for tests). */
  segmentOf(slot: number): 'window' | 'probation' | 'protected' | undefined {
    const l = slot >= 0 && slot < this.lists.list.length ? this.lists.list.get(slot) : -1;
    return l === WINDOW ? 'window' : l === PROBATION ? 'probation' : l === PROTECTED ? 'protected' : undefined;
  }

  /** The current window size, in the unit of the capacity (for tests and diagnostics). */
  get windowMaximum(): number {
    return this.windowMax;
  }

  /** Records one more occurrence of a key hash in the sketch, as a miss elsewhere would (for tests). */
  sketch_bump(hash: number): void {
    this.sketch.increment(hash);
  }

  /** The sketch's estimate for a key hash (for tests). */
  estimate(hash: number): number {
    return this.sketch.frequency(hash);
  }

  private touch(slot: number): void {
    const lists = this.lists;
    const l = lists.list.get(slot);
    if (l === PROBATION) {
      if (slot === this.candidate) this.candidate = -1;
      this.transfer(slot, PROBATION, PROTECTED);
      this.demoteProtected();
    } else if (l <= PROTECTED) {
      lists.moveToHead(l, slot);
    }
  }

  /** True when the candidate should replace the victim (TinyLFU's admission, with Caffeine's hash-flooding guard). */
  private admit(candidate: number, victim: number): boolean {
    const candidateFreq = this.sketch.frequency(this.hashes.get(candidate));
    const victimFreq = this.sketch.frequency(this.hashes.get(victim));
    if (candidateFreq > victimFreq) return true;
    if (candidateFreq <= HASHDOS_THRESHOLD) return false;
    // xorshift32: a cheap deterministic coin, 1 in 128.
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x;
    return (x & 127) === 0;
  }

  private drop(slot: number): void {
    this.held[this.lists.list.get(slot)]! -= this.weights.get(slot);
    this.lists.unlink(slot);
  }

  private transfer(slot: number, from: number, to: number): void {
    const w = this.weights.get(slot);
    this.lists.unlink(slot);
    this.lists.pushHead(to, slot);
    this.held[from]! -= w;
    this.held[to]! += w;
  }

  private demoteProtected(): void {
    const lists = this.lists;
    while (this.held[PROTECTED]! > this.protectedMax && lists.counts[PROTECTED]! > 0) {
      this.transfer(lists.tails[PROTECTED]!, PROTECTED, PROBATION);
    }
  }

  /** Caffeine's hill climber: decide the next window adjustment from the last sample's hit rate, then apply it. */
  private climb(): void {
    const requests = this.hitsInSample + this.missesInSample;
    const hitRate = this.hitsInSample / requests;
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.stepSize : -this.stepSize;
    const nextStep = Math.abs(change) >= RESTART_THRESHOLD ? STEP_PERCENT * this.capacity * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
    this.previousHitRate = hitRate;
    this.adjustment = Math.trunc(amount);
    this.stepSize = nextStep;
    this.hitsInSample = 0;
    this.missesInSample = 0;
    if (this.adjustment > 0) this.increaseWindow();
    else if (this.adjustment < 0) this.decreaseWindow();
  }

  private increaseWindow(): void {
    const lists = this.lists;
    let quota = Math.min(this.adjustment, this.protectedMax);
    this.protectedMax -= quota;
    this.windowMax += quota;
    this.demoteProtected();
    for (let i = 0; i < TRANSFER_LIMIT; i++) {
      let from = PROBATION;
      let slot = lists.tails[PROBATION]!;
      if (slot === -1 || quota < this.weights.get(slot)) {
        from = PROTECTED;
        slot = lists.tails[PROTECTED]!;
      }
      if (slot === -1) break;
      const w = this.weights.get(slot);
      if (quota < w) break;
      quota -= w;
      if (slot === this.candidate) this.candidate = -1;
      this.transfer(slot, from, WINDOW);
    }
    this.protectedMax += quota;
    this.windowMax -= quota;
    this.adjustment = quota;
  }

  private decreaseWindow(): void {
    if (this.windowMax <= 1) return;
    const lists = this.lists;
    let quota = Math.min(-this.adjustment, Math.max(0, this.windowMax - 1));
    this.protectedMax += quota;
    this.windowMax -= quota;
    for (let i = 0; i < TRANSFER_LIMIT; i++) {
      const slot = lists.tails[WINDOW]!;
      if (slot === -1) break;
      const w = this.weights.get(slot);
      if (quota < w) break;
      quota -= w;
      this.transfer(slot, WINDOW, PROBATION);
    }
    this.protectedMax -= quota;
    this.windowMax += quota;
    this.adjustment = -quota;
  }
}
