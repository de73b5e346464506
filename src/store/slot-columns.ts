/**
 * Per-slot columns of the store engine and its eviction policies, kept in fixed-size pages so
 * that adding slots never copies a column.
 *
 * A column of one flat array has to be copied into one twice as long whenever the store outgrows
 * it. At a million slots that copy, the zeroing of the new arrays and the full garbage collection
 * that V8 runs when a few large arrays appear at once held one write (and the event loop) for
 * about 230 ms, at two million 500-900 ms, at four million 2.4 s: a peer filled to 2.2 million
 * keys stalled 1.45 s, long enough for the other peers to suspect it. In pages the cost of growth
 * is bounded by the page: the last page doubles up to {@link SLOT_PAGE_SLOTS} slots (copying at
 * most that many), then new pages are added and nothing else is copied (the same peer's longest
 * stall: 24 ms, 9 ms of it on the CPU).
 *
 * Slot `s` is at offset `s & (SLOT_PAGE_SLOTS - 1)` of page `s >>> SLOT_PAGE_BITS`; a read is
 * one more load than a flat array (a few ns per access). In the store's trace replays
 * (`npm run bench:hit-ratio`) the paged columns cost 15-20% of the raw store throughput; in a peer,
 * where a request costs microseconds, A/B runs show no difference (see docs/architecture.md).
 *
 * Classes: {@link Int32Column}, {@link Uint8Column} and {@link Float64Column} over typed-array
 * pages, {@link ValueColumn} over plain-array pages (keys, values, strings), all on one paging
 * base. Slots below
 * {@link SLOT_PAGE_SLOTS} are read from the first page directly (one compare instead of the page
 * lookup), so a store that fits in one page pays almost nothing for the paging.
 */

/** log2 of {@link SLOT_PAGE_SLOTS}. */
export const SLOT_PAGE_BITS = 16;
/** Slots per page (65,536): a page of a Float64 column is 512 KiB. */
export const SLOT_PAGE_SLOTS = 1 << SLOT_PAGE_BITS;
const OFFSET_MASK = SLOT_PAGE_SLOTS - 1;

/** A page of a column: a typed array for numbers, a plain array for other values. */
interface Page<E> {
  [slot: number]: E;
  readonly length: number;
  fill(value: E): unknown;
}

/**
 * Lengthens the paged column `pages` to hold at least `slots` slots: every page but the last is
 * full; the last one is replaced by one at least twice as long (at most a page, copying it) until
 * it is full, then new pages are added, each only as long as needed. So no growth copies more than
 * one page, and a store bounded by entries ends on a partial page rather than a page of slack.
 */
function growPages<P extends { readonly length: number }>(pages: P[], slots: number, make: (length: number) => P, copy: (from: P, to: P) => void): void {
  for (;;) {
    const last = pages.length - 1;
    const lastPage = pages[last]!;
    if (last * SLOT_PAGE_SLOTS + lastPage.length >= slots) return;
    if (lastPage.length < SLOT_PAGE_SLOTS) {
      const longer = make(Math.min(Math.max(slots - last * SLOT_PAGE_SLOTS, 2 * lastPage.length), SLOT_PAGE_SLOTS));
      copy(lastPage, longer);
      pages[last] = longer;
    } else {
      pages.push(make(Math.min(slots - pages.length * SLOT_PAGE_SLOTS, SLOT_PAGE_SLOTS)));
    }
  }
}

/**
 * The paging of a column (see the module comment): its pages, growth and fill, and the accessors'
 * slow path. Each concrete column defines its own `get` and `set` (the fast path, slots below
 * {@link SLOT_PAGE_SLOTS}), so that every access site sees one array type: with one `get` shared
 * by the typed-array columns, the store's replay benchmark measured S3-FIFO about 10% slower.
 */
abstract class PagedColumn<E, P extends Page<E>> {
  /** The page of slots `0 .. SLOT_PAGE_SLOTS-1` (also `pages[0]`): the accessors' fast path. */
  protected first: P;
  protected readonly pages: P[];
  private capacity: number;

  /**
   * @param newPage makes a page of the given length, every slot holding the column's initial value
   * @param copy copies a page into a longer one
   * @param slots the initial number of slots (at least 1 is allocated)
   */
  constructor(
    private readonly newPage: (length: number) => P,
    private readonly copy: (from: P, to: P) => void,
    slots: number,
  ) {
    this.pages = [newPage(Math.max(1, Math.min(slots, SLOT_PAGE_SLOTS)))];
    this.first = this.pages[0]!;
    this.capacity = this.first.length;
    this.grow(slots);
  }

  /** Slots the column holds now (at least the number last asked for). */
  get length(): number {
    return this.capacity;
  }

  /** The value in `slot` (`slot` below {@link length}; not checked). */
  abstract get(slot: number): E;
  /** Sets the value in `slot` (`slot` below {@link length}; not checked). */
  abstract set(slot: number, value: E): void;

  /** {@link get} past the first page: out of line, so that the inlined accessor stays small. */
  protected getPaged(slot: number): E {
    return this.pages[slot >>> SLOT_PAGE_BITS]![slot & OFFSET_MASK]!;
  }

  /** {@link set} past the first page (see {@link getPaged}). */
  protected setPaged(slot: number, value: E): void {
    this.pages[slot >>> SLOT_PAGE_BITS]![slot & OFFSET_MASK] = value;
  }

  /** Makes room for slots `0 .. slots-1`, new slots holding the initial value; copies at most one page (see {@link growPages}). */
  grow(slots: number): void {
    if (slots <= this.capacity) return;
    growPages(this.pages, slots, this.newPage, this.copy);
    this.first = this.pages[0]!;
    this.capacity = (this.pages.length - 1) * SLOT_PAGE_SLOTS + this.pages[this.pages.length - 1]!.length;
  }

  /** Sets every slot to `value`. */
  fill(value: E): void {
    for (const page of this.pages) page.fill(value);
  }
}

/** A zeroed typed-array page holding `initial` in every slot. */
function typedPage<P extends Int32Array | Uint8Array | Float64Array>(page: P, initial: number): P {
  if (initial !== 0) page.fill(initial);
  return page;
}

/** Copies a typed-array page into a longer one. */
const copyTyped = (from: Int32Array | Uint8Array | Float64Array, to: Int32Array | Uint8Array | Float64Array): void => to.set(from);

/** A column of 32-bit signed integers, one per slot, in pages (see {@link PagedColumn}). */
export class Int32Column extends PagedColumn<number, Int32Array> {
  /** @param initial the value new slots start with; @param slots the initial number of slots */
  constructor(initial: number, slots: number) {
    super((length) => typedPage(new Int32Array(length), initial), copyTyped, slots);
  }

  get(slot: number): number {
    return slot < SLOT_PAGE_SLOTS ? this.first[slot]! : this.getPaged(slot);
  }

  set(slot: number, value: number): void {
    if (slot < SLOT_PAGE_SLOTS) this.first[slot] = value;
    else this.setPaged(slot, value);
  }
}

/** A column of bytes (0-255), one per slot, in pages (see {@link PagedColumn}). */
export class Uint8Column extends PagedColumn<number, Uint8Array> {
  /** @param initial the value new slots start with; @param slots the initial number of slots */
  constructor(initial: number, slots: number) {
    super((length) => typedPage(new Uint8Array(length), initial), copyTyped, slots);
  }

  get(slot: number): number {
    return slot < SLOT_PAGE_SLOTS ? this.first[slot]! : this.getPaged(slot);
  }

  set(slot: number, value: number): void {
    if (slot < SLOT_PAGE_SLOTS) this.first[slot] = value;
    else this.setPaged(slot, value);
  }
}

/** A column of doubles, one per slot, in pages (see {@link PagedColumn}). */
export class Float64Column extends PagedColumn<number, Float64Array> {
  /** @param initial the value new slots start with; @param slots the initial number of slots */
  constructor(initial: number, slots: number) {
    super((length) => typedPage(new Float64Array(length), initial), copyTyped, slots);
  }

  get(slot: number): number {
    return slot < SLOT_PAGE_SLOTS ? this.first[slot]! : this.getPaged(slot);
  }

  set(slot: number, value: number): void {
    if (slot < SLOT_PAGE_SLOTS) this.first[slot] = value;
    else this.setPaged(slot, value);
  }
}

/** A column of JavaScript values (keys, values, strings), one per slot, in plain-array pages (see {@link PagedColumn}). */
export class ValueColumn<T> extends PagedColumn<T, T[]> {
  /**
   * @param initial the value new slots start with (e.g. `undefined`)
   * @param slots the initial number of slots (at least 1 is allocated)
   */
  constructor(initial: T, slots: number) {
    // Growth makes a new page and copies: lengthening an array in place by more than about a
    // thousand places can turn it into a slow dictionary in V8.
    super(
      (length) => new Array<T>(length).fill(initial),
      (from, to) => {
        for (let i = 0; i < from.length; i++) to[i] = from[i]!;
      },
      slots,
    );
  }

  get(slot: number): T {
    return slot < SLOT_PAGE_SLOTS ? this.first[slot]! : this.getPaged(slot);
  }

  set(slot: number, value: T): void {
    if (slot < SLOT_PAGE_SLOTS) this.first[slot] = value;
    else this.setPaged(slot, value);
  }
}
