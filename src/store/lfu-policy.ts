/**
 * Least frequently used, in O(1) per operation: K. Shah, A. Mitra & D. Matani, "An O(1) algorithm
 * for implementing the LFU cache eviction scheme" (2010).
 *
 * A list of frequency nodes in increasing frequency, each holding the list of slots read that
 * many times (insert = 1); a hit moves a slot to the node of the next frequency, creating it
 * beside the current one when missing, and a node left empty is freed. The victim is in the
 * lowest-frequency node; ties are broken by recency (the slot that reached that frequency
 * longest ago goes first). Nodes and item links live in typed arrays (a node pool with a free
 * stack), so nothing is allocated per operation.
 *
 * Frequencies never decay, so an entry that was hot long ago stays: LFU is here for comparison
 * and for workloads with a stable popularity, not as the default.
 */
import type { SlotPolicy } from './slot-policy.js';
import { growFloat64, growInt32 } from './slot-lists.js';

export class LfuPolicy implements SlotPolicy {
  readonly name = 'lfu' as const;
  // Per slot: its frequency node and its neighbours in that node's list (-1 = none / not tracked).
  private nodeOf: Int32Array;
  private prev: Int32Array;
  private next: Int32Array;
  // Per node: frequency, neighbours in the frequency list, and its item list (head = most recent).
  private freq: Float64Array;
  private nPrev: Int32Array;
  private nNext: Int32Array;
  private nHead: Int32Array;
  private nTail: Int32Array;
  private free: Int32Array;
  private freeTop = 0;
  /** The node of the lowest frequency, or -1. */
  private lowest = -1;

  /** @param slots initial number of slots */
  constructor(slots: number) {
    this.nodeOf = new Int32Array(slots).fill(-1);
    this.prev = new Int32Array(slots);
    this.next = new Int32Array(slots);
    // At most one node per tracked slot, plus the one created during a move.
    const nodes = slots + 1;
    this.freq = new Float64Array(nodes);
    this.nPrev = new Int32Array(nodes);
    this.nNext = new Int32Array(nodes);
    this.nHead = new Int32Array(nodes);
    this.nTail = new Int32Array(nodes);
    this.free = new Int32Array(nodes);
    this.resetFree();
  }

  grow(slots: number): void {
    if (slots <= this.nodeOf.length) return;
    this.nodeOf = growInt32(this.nodeOf, slots, -1);
    this.prev = growInt32(this.prev, slots, 0);
    this.next = growInt32(this.next, slots, 0);
    const old = this.freq.length;
    const nodes = slots + 1;
    this.freq = growFloat64(this.freq, nodes);
    this.nPrev = growInt32(this.nPrev, nodes, 0);
    this.nNext = growInt32(this.nNext, nodes, 0);
    this.nHead = growInt32(this.nHead, nodes, 0);
    this.nTail = growInt32(this.nTail, nodes, 0);
    const free = new Int32Array(nodes);
    free.set(this.free.subarray(0, this.freeTop));
    for (let n = old; n < nodes; n++) free[this.freeTop++] = n;
    this.free = free;
  }

  onInsert(slot: number): void {
    let node = this.lowest;
    if (node === -1 || this.freq[node] !== 1) {
      node = this.newNode(1, -1, this.lowest);
    }
    this.addItem(node, slot);
  }

  onHit(slot: number): void {
    const node = this.nodeOf[slot]!;
    if (node === -1) return;
    const f = this.freq[node]! + 1;
    let target = this.nNext[node]!;
    if (target === -1 || this.freq[target] !== f) target = this.newNode(f, node, target);
    this.removeItem(node, slot);
    this.addItem(target, slot);
  }

  onUpdate(slot: number): void {
    this.onHit(slot);
  }

  onRemove(slot: number): void {
    const node = this.nodeOf[slot]!;
    if (node !== -1) this.removeItem(node, slot);
  }

  evict(): number {
    const node = this.lowest;
    if (node === -1) return -1;
    const victim = this.nTail[node]!;
    this.removeItem(node, victim);
    return victim;
  }

  clear(): void {
    this.nodeOf.fill(-1);
    this.lowest = -1;
    this.resetFree();
  }

  /** The read count of the entry in `slot` (1 after insert), or 0 when not tracked (for tests). */
  frequencyOf(slot: number): number {
    const node = this.nodeOf[slot]!;
    return node === -1 ? 0 : this.freq[node]!;
  }

  private resetFree(): void {
    const n = this.free.length;
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeTop = n;
  }

  /** Takes a node from the pool for frequency `f`, linked between `before` and `after` (-1 = ends). */
  private newNode(f: number, before: number, after: number): number {
    const node = this.free[--this.freeTop]!;
    this.freq[node] = f;
    this.nHead[node] = -1;
    this.nTail[node] = -1;
    this.nPrev[node] = before;
    this.nNext[node] = after;
    if (before !== -1) this.nNext[before] = node;
    else this.lowest = node;
    if (after !== -1) this.nPrev[after] = node;
    return node;
  }

  private addItem(node: number, slot: number): void {
    const head = this.nHead[node]!;
    this.prev[slot] = -1;
    this.next[slot] = head;
    if (head !== -1) this.prev[head] = slot;
    else this.nTail[node] = slot;
    this.nHead[node] = slot;
    this.nodeOf[slot] = node;
  }

  private removeItem(node: number, slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== -1) this.next[p] = n;
    else this.nHead[node] = n;
    if (n !== -1) this.prev[n] = p;
    else this.nTail[node] = p;
    this.nodeOf[slot] = -1;
    if (this.nHead[node] === -1) {
      // The node is empty: unlink it from the frequency list and return it to the pool.
      const before = this.nPrev[node]!;
      const after = this.nNext[node]!;
      if (before !== -1) this.nNext[before] = after;
      else this.lowest = after;
      if (after !== -1) this.nPrev[after] = before;
      this.free[this.freeTop++] = node;
    }
  }
}
