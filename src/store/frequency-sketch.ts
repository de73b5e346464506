/**
 * A count-min sketch of 4-bit counters with periodic aging: the frequency estimator of TinyLFU
 * (G. Einziger, R. Friedman & B. Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
 * ACM Transactions on Storage 2017), laid out as Caffeine's `FrequencySketch`.
 *
 * Counters are packed 8 to a `Uint32Array` word; the table has the next power of two at or above
 * twice the capacity in words (16 counters per cached entry). A key's 4 counters are picked by
 * two mixes of its 32-bit hash (position i = h1 + i x h2, after Kirsch & Mitzenmacher); `increment` raises each one below 15, `frequency` returns the
 * smallest. After `10 x capacity` increments every counter is halved (the "reset" that makes
 * the estimate follow a changing popularity).
 */

export class FrequencySketch {
  private table: Uint32Array;
  private mask: number;
  /** Increments between two halvings. */
  sampleSize: number;
  private additions = 0;

  /** @param capacity the number of entries the cache holds (at least 1) */
  constructor(capacity: number) {
    const words = nextPowerOfTwo(Math.max(8, 2 * Math.ceil(capacity)));
    this.table = new Uint32Array(words);
    this.mask = words - 1;
    this.sampleSize = 10 * Math.max(1, Math.ceil(capacity));
  }

  /** The estimated number of recent occurrences of `hash`, 0..15. */
  frequency(hash: number): number {
    let min = 15;
    const h1 = spread(hash);
    const h2 = rehash(h1);
    for (let i = 0; i < 4; i++) {
      const h = h1 + Math.imul(i, h2);
      const c = (this.table[(h >>> 3) & this.mask]! >>> ((h & 7) << 2)) & 15;
      if (c < min) min = c;
    }
    return min;
  }

  /** Records one occurrence of `hash`. */
  increment(hash: number): void {
    let added = false;
    const table = this.table;
    const h1 = spread(hash);
    const h2 = rehash(h1);
    for (let i = 0; i < 4; i++) {
      const h = h1 + Math.imul(i, h2);
      const index = (h >>> 3) & this.mask;
      const shift = (h & 7) << 2;
      if (((table[index]! >>> shift) & 15) !== 15) {
        table[index] = table[index]! + (1 << shift);
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.halve();
  }

  /** Forgets every count. */
  clear(): void {
    this.table.fill(0);
    this.additions = 0;
  }

  private halve(): void {
    const table = this.table;
    for (let i = 0; i < table.length; i++) table[i] = (table[i]! >>> 1) & 0x77777777;
    this.additions = this.additions >>> 1;
  }
}

/** The first of the two hashes the 4 counter positions derive from (Kirsch & Mitzenmacher: position i = h1 + i * h2). */
function spread(hash: number): number {
  const h = Math.imul(hash ^ 0x97cb3127, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** The second hash, odd so that the 4 positions differ. */
function rehash(h1: number): number {
  const h = Math.imul(h1, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 1;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
