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
import { Float64Column, Int32Column } from './slot-columns.js';

/** LFU over the store's slots, O(1) per operation (Shah, Mitra & Matani 2010; see the module comment). */
export class LfuPolicy implements SlotPolicy {
  readonly name = 'lfu' as const;
  // Per slot: its frequency node and its neighbours in that node's list (-1 = none / not tracked).
  private readonly nodeOf: Int32Column;
  private readonly prev: Int32Column;
  private readonly next: Int32Column;
  // Per node: frequency, neighbours in the frequency list, and its item list (head = most recent).
  private readonly freq: Float64Column;
  private readonly nPrev: Int32Column;
  private readonly nNext: Int32Column;
  private readonly nHead: Int32Column;
  private readonly nTail: Int32Column;
  /** The pool's free nodes (a stack; `freeTop` of them). */
  private readonly free: Int32Column;
  private freeTop = 0;
  /** Nodes in the pool: one more than the slots. */
  private nodes: number;
  /** The node of the lowest frequency, or -1. */
  private lowest = -1;

  /** @param slots initial number of slots */
  constructor(slots: number) {
    this.nodeOf = new Int32Column(-1, slots);
    this.prev = new Int32Column(0, slots);
    this.next = new Int32Column(0, slots);
    // At most one node per tracked slot, plus the one created during a move.
    const nodes = slots + 1;
    this.nodes = nodes;
    this.freq = new Float64Column(0, nodes);
    this.nPrev = new Int32Column(0, nodes);
    this.nNext = new Int32Column(0, nodes);
    this.nHead = new Int32Column(0, nodes);
    this.nTail = new Int32Column(0, nodes);
    this.free = new Int32Column(0, nodes);
    this.resetFree();
  }

  grow(slots: number): void {
    const nodes = slots + 1;
    if (nodes <= this.nodes) return;
    this.nodeOf.grow(slots);
    this.prev.grow(slots);
    this.next.grow(slots);
    for (const column of [this.freq, this.nPrev, this.nNext, this.nHead, this.nTail, this.free]) column.grow(nodes);
    for (let n = this.nodes; n < nodes; n++) this.free.set(this.freeTop++, n);
    this.nodes = nodes;
  }

  onInsert(slot: number): void {
    let node = this.lowest;
    if (node === -1 || this.freq.get(node) !== 1) {
      node = this.newNode(1, -1, this.lowest);
    }
    this.addItem(node, slot);
  }

  onHit(slot: number): void {
    const node = this.nodeOf.get(slot);
    if (node === -1) return;
    const f = this.freq.get(node) + 1;
    let target = this.nNext.get(node);
    if (target === -1 || this.freq.get(target) !== f) target = this.newNode(f, node, target);
    this.removeItem(node, slot);
    this.addItem(target, slot);
  }

  onUpdate(slot: number): void {
    this.onHit(slot);
  }

  onRemove(slot: number): void {
    const node = this.nodeOf.get(slot);
    if (node !== -1) this.removeItem(node, slot);
  }

  evict(): number {
    const node = this.lowest;
    if (node === -1) return -1;
    const victim = this.nTail.get(node);
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
    const node = this.nodeOf.get(slot);
    return node === -1 ? 0 : this.freq.get(node);
  }

  private resetFree(): void {
    const n = this.nodes;
    for (let i = 0; i < n; i++) this.free.set(i, n - 1 - i);
    this.freeTop = n;
  }

  /** Takes a node from the pool for frequency `f`, linked between `before` and `after` (-1 = ends). */
  private newNode(f: number, before: number, after: number): number {
    const node = this.free.get(--this.freeTop);
    this.freq.set(node, f);
    this.nHead.set(node, -1);
    this.nTail.set(node, -1);
    this.nPrev.set(node, before);
    this.nNext.set(node, after);
    if (before !== -1) this.nNext.set(before, node);
    else this.lowest = node;
    if (after !== -1) this.nPrev.set(after, node);
    return node;
  }

  private addItem(node: number, slot: number): void {
    const head = this.nHead.get(node);
    this.prev.set(slot, -1);
    this.next.set(slot, head);
    if (head !== -1) this.prev.set(head, slot);
    else this.nTail.set(node, slot);
    this.nHead.set(node, slot);
    this.nodeOf.set(slot, node);
  }

  private removeItem(node: number, slot: number): void {
    const p = this.prev.get(slot);
    const n = this.next.get(slot);
    if (p !== -1) this.next.set(p, n);
    else this.nHead.set(node, n);
    if (n !== -1) this.prev.set(n, p);
    else this.nTail.set(node, p);
    this.nodeOf.set(slot, -1);
    if (this.nHead.get(node) === -1) {
      // The node is empty: unlink it from the frequency list and return it to the pool.
      const before = this.nPrev.get(node);
      const after = this.nNext.get(node);
      if (before !== -1) this.nNext.set(before, after);
      else this.lowest = after;
      if (after !== -1) this.nPrev.set(after, before);
      this.free.set(this.freeTop++, node);
    }
  }
}
