/**
 * The bytes of the stored values, kept outside the V8 heap in a slab allocator (the memcached
 * design: size classes of fixed-size cells carved out of fixed-size pages, a free list per page).
 *
 * Why: a value kept as a JavaScript string is a heap object that every write makes and every
 * overwrite or eviction leaves behind. Under a stream of writes those strings survive two
 * young-generation collections (a cache keeps what it is given), are copied into the old
 * generation, and die there, so the scavenges copy megabytes and the mark-compacts grow with
 * the write rate and the entries held. A standalone measure (200k keys, a million overwrites of
 * 100-byte values, `--trace-gc`): strings gave a worst single write of 69 ms, mark-compact pauses
 * of 27-51 ms and 163 MB of heap; the same values as bytes in `Buffer` cells gave 6.7-8.5 ms,
 * ~10 ms and 46 MB, at about the same throughput. Here a value is one UTF-8 copy in a cell of a
 * page (`Buffer.allocUnsafeSlow`, memory V8 does not scan or move); a read decodes it into a
 * fresh string that dies young.
 *
 * Layout:
 * - Size classes: cells of {@link MIN_CELL_BYTES} bytes, each class about {@link CLASS_GROWTH}
 *   times the one before (rounded up to 8 bytes; memcached's default factor), up to
 *   {@link MAX_CELL_BYTES}. A value takes a cell of the smallest class that holds its bytes, so at
 *   most about a fifth of a cell is slack.
 * - Pages of {@link SLAB_PAGE_BYTES} bytes; a class takes a new page when none of its pages has a
 *   free cell. A value above {@link MAX_CELL_BYTES} takes a page of its own, of
 *   exactly its size, given back as soon as the value is freed.
 * - A value is named by a handle, a non-negative integer small enough to be a V8 small integer
 *   (no heap object): its page number times {@link CELLS_PER_PAGE} plus its cell's index.
 *
 * Memcached keeps a class's pages once taken ("slab calcification": a store whose values change
 * size for good keeps pages of the old size that only values of that size reuse, until its
 * rebalancer moves them). Here each page keeps its own free list (threaded through its free
 * cells) and a count of its live cells, and a page whose last value goes is given back, to the
 * system and for any class to reuse, except one empty page per class (kept against churn at a
 * page boundary). So a class whose values are all gone holds at most one page; what remains
 * above the bytes in use is the free cells of pages that still hold values (reused first:
 * new cells come from the page that last gained room). Values are not moved between pages
 * (no compaction), so a class left sparse after heavy churn keeps its partly used pages.
 * The store's byte budget charges each value its cell (`entryBytes`), so the budget bounds the
 * cells in use; {@link ValueSlab.reservedBytes} is the memory the pages take.
 *
 * Reference: memcached's slab allocator (`slabs.c`; "Scaling Memcache at Facebook", Nishtala et
 * al., NSDI 2013, section 3.2 on slab classes and their rebalancing).
 */
import { CacheError } from '../errors.js';

/** Bytes of a page of the size classes (64 KiB). */
export const SLAB_PAGE_BYTES = 64 * 1024;
/** Smallest cell, bytes. */
export const MIN_CELL_BYTES = 16;
/** Ratio of a class's cell size to the one before (memcached's default `-f 1.25`). */
export const CLASS_GROWTH = 1.25;
/** Largest cell of a size class, bytes; a larger value takes a page of its own. */
export const MAX_CELL_BYTES = 16 * 1024;
/** Cells a page can hold at most (its smallest cells): the handle's multiplier. */
export const CELLS_PER_PAGE = SLAB_PAGE_BYTES / MIN_CELL_BYTES;
/**
 * Most pages a slab may hold, so that every handle is below 2^31 (a V8 small integer on 64-bit):
 * 524,288 pages, 32 GiB of size-class pages.
 */
const MAX_PAGES = Math.floor(2 ** 31 / CELLS_PER_PAGE);
/** Class number of a page holding one value above {@link MAX_CELL_BYTES}. */
const OWN_PAGE = -1;
/** "No cell" in a page's free list (cells per page are at most 4,096, so two bytes hold any index). */
const NO_CELL = 0xffff;

/** Cell sizes of the size classes, smallest first (see the module comment). */
export const CELL_SIZES: readonly number[] = (() => {
  const sizes = [MIN_CELL_BYTES];
  for (;;) {
    const last = sizes[sizes.length - 1]!;
    if (last >= MAX_CELL_BYTES) return sizes;
    sizes.push(Math.min(MAX_CELL_BYTES, Math.max(last + 8, Math.ceil((last * CLASS_GROWTH) / 8) * 8)));
  }
})();

/** Class of a value of `n` bytes (n <= MAX_CELL_BYTES), looked up by `ceil(n / 8)`. */
const CLASS_BY_EIGHTHS: Uint8Array = (() => {
  const table = new Uint8Array(MAX_CELL_BYTES / 8 + 1);
  let cls = 0;
  for (let eighths = 0; eighths < table.length; eighths++) {
    while (CELL_SIZES[cls]! < eighths * 8) cls += 1;
    table[eighths] = cls;
  }
  return table;
})();

/**
 * Bytes a value of `bytes` UTF-8 bytes takes in the slab: its size class's cell, or a page of
 * its own of exactly its size above {@link MAX_CELL_BYTES}.
 */
export function cellBytesFor(bytes: number): number {
  return bytes > MAX_CELL_BYTES ? bytes : CELL_SIZES[CLASS_BY_EIGHTHS[(bytes + 7) >>> 3]!]!;
}

/**
 * A page as the slab encodes and decodes it. Node's `Buffer` has had these per-encoding methods
 * since its early versions (`buf.toString(encoding, start, end)` and `buf.write(text, offset,
 * length, encoding)` check their arguments and look the encoding up, then call them), but
 * `@types/node` does not declare them. Called directly, `LocalStore.getValue` took 0.8x the time
 * (100k keys, random reads: about 250 ns less per read).
 */
interface CodingBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length: number): number;
  utf8Write(text: string, offset: number, length: number): number;
}

/** One size class: its cell size and its pages that have a free cell. */
interface SizeClass {
  readonly cellBytes: number;
  readonly cellsPerPage: number;
  /** Pages of the class with at least one free cell; new cells come from the last one. */
  readonly roomy: number[];
  /** The one page of the class kept although all its cells are free (-1 = none): see {@link ValueSlab.free}. */
  emptyPage: number;
}

/**
 * Off-heap storage of value texts (see the module comment). Not thread-safe, no I/O.
 *
 * Use: `write(text)` returns a handle and sets {@link lastBytes} and {@link lastAscii};
 * `read(handle, bytes, ascii)` gives the text back; `free(handle)` releases the cell. The caller
 * keeps the byte length and the ASCII flag (the store keeps them in its per-slot columns).
 */
export class ValueSlab {
  /** UTF-8 length in bytes of the text the last {@link write} stored. */
  lastBytes = 0;
  /** Whether that text was ASCII only (its bytes then decode as Latin-1, about twice as fast as UTF-8). */
  lastAscii = true;
  private pages: (Buffer | undefined)[] = [];
  /** Per page: its size class, or {@link OWN_PAGE}. */
  private pageClass: number[] = [];
  /** Per page: the cell size of its class (0 for an own page, whose one cell starts at 0). */
  private pageCellBytes: number[] = [];
  /** Per page of a size class: cells holding a value. */
  private pageLive: number[] = [];
  /** Per page of a size class: cells never used yet (from the end of the page). */
  private pageFresh: number[] = [];
  /** Per page of a size class: the first freed cell ({@link NO_CELL} = none); each freed cell holds the next one's index in its first two bytes. */
  private pageFreeHead: number[] = [];
  /** Per page of a size class: its index in its class's `roomy` list, or -1 when full. */
  private pageRoomyAt: number[] = [];
  /** Page numbers given back, for reuse by any class. */
  private freePages: number[] = [];
  private classes: SizeClass[] = ValueSlab.newClasses();
  private reserved = 0;
  private used = 0;

  private static newClasses(): SizeClass[] {
    return CELL_SIZES.map((cellBytes) => ({ cellBytes, cellsPerPage: Math.floor(SLAB_PAGE_BYTES / cellBytes), roomy: [], emptyPage: -1 }));
  }

  /** Bytes of the pages held (off the V8 heap): the slab's memory. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** Bytes of the cells holding values (each value counted at its cell's size). */
  get usedBytes(): number {
    return this.used;
  }

  /**
   * Stores `text` as UTF-8 and returns its handle; sets {@link lastBytes} and {@link lastAscii}.
   * A lone surrogate would come back as U+FFFD, as in any UTF-8 encoding; value texts never hold
   * one (`JSON.stringify` escapes them, and `ws` rejects text frames that are not valid UTF-8).
   * @param bytes the UTF-8 length of `text`, when the caller measured it already
   * @throws CacheError OUT_OF_MEMORY when the slab would need more than 2^31 / CELLS_PER_PAGE pages
   */
  write(text: string, bytes = Buffer.byteLength(text, 'utf8')): number {
    this.lastBytes = bytes;
    this.lastAscii = bytes === text.length;
    if (bytes > MAX_CELL_BYTES) return this.writeOwnPage(text, bytes);
    const cls = CLASS_BY_EIGHTHS[(bytes + 7) >>> 3]!;
    const handle = this.allocCell(cls);
    const c = this.classes[cls]!;
    this.encode(this.pages[Math.floor(handle / CELLS_PER_PAGE)]!, text, (handle % CELLS_PER_PAGE) * c.cellBytes, bytes);
    return handle;
  }

  /**
   * Stores `text` in the cell of `handle` when it fits that cell's class exactly (the class a new
   * write of it would take), and returns true; else leaves the cell alone and returns false.
   * The overwrite of a value by one of about the same size then takes no allocation. Sets
   * {@link lastBytes} and {@link lastAscii} either way.
   * @param bytes the UTF-8 length of `text`, when the caller measured it already
   */
  rewrite(handle: number, text: string, bytes = Buffer.byteLength(text, 'utf8')): boolean {
    this.lastBytes = bytes;
    this.lastAscii = bytes === text.length;
    if (bytes > MAX_CELL_BYTES) return false;
    const page = Math.floor(handle / CELLS_PER_PAGE);
    const cls = this.pageClass[page]!;
    if (cls !== CLASS_BY_EIGHTHS[(bytes + 7) >>> 3]) return false;
    this.encode(this.pages[page]!, text, (handle % CELLS_PER_PAGE) * this.pageCellBytes[page]!, bytes);
    return true;
  }

  /**
   * The text stored under `handle`.
   * @param bytes its length in bytes, as {@link lastBytes} said
   * @param ascii whether it was ASCII only, as {@link lastAscii} said
   */
  read(handle: number, bytes: number, ascii: boolean): string {
    const page = Math.floor(handle / CELLS_PER_PAGE);
    const start = (handle % CELLS_PER_PAGE) * this.pageCellBytes[page]!;
    const buffer = this.pages[page] as CodingBuffer;
    return ascii ? buffer.latin1Slice(start, start + bytes) : buffer.utf8Slice(start, start + bytes);
  }

  /**
   * Releases the cell of `handle` (a handle {@link write} returned and not freed since). A page
   * whose last value goes is given back (its memory to the system, its number to any class),
   * except one empty page per class, kept so that a class writing and freeing around a page
   * boundary does not allocate a page each time. So a class whose values are all gone holds at
   * most one page: pages follow what each class holds, not its peak. A page that keeps some live
   * cells keeps its memory (its free cells are reused first by its class).
   */
  free(handle: number): void {
    const page = Math.floor(handle / CELLS_PER_PAGE);
    const cls = this.pageClass[page]!;
    if (cls === OWN_PAGE) {
      this.used -= this.pages[page]!.length;
      this.releasePage(page);
      return;
    }
    const c = this.classes[cls]!;
    this.used -= c.cellBytes;
    const cell = handle % CELLS_PER_PAGE;
    const buffer = this.pages[page]!;
    const head = this.pageFreeHead[page]!;
    const offset = cell * c.cellBytes;
    // The freed cell links to the previous head (0xffff = none): cells hold 16 bytes or more.
    buffer[offset] = head & 0xff;
    buffer[offset + 1] = (head >>> 8) & 0xff;
    this.pageFreeHead[page] = cell;
    if (this.pageRoomyAt[page] === -1) {
      this.pageRoomyAt[page] = c.roomy.length;
      c.roomy.push(page);
    }
    const live = this.pageLive[page]! - 1;
    this.pageLive[page] = live;
    if (live > 0) return;
    if (c.emptyPage === -1) {
      c.emptyPage = page;
      return;
    }
    // Give the page back: out of the class's roomy list (swap with the last), then its memory.
    const at = this.pageRoomyAt[page]!;
    const last = c.roomy.pop()!;
    if (last !== page) {
      c.roomy[at] = last;
      this.pageRoomyAt[last] = at;
    }
    this.pageRoomyAt[page] = -1;
    this.releasePage(page);
  }

  /** Drops every page: all handles become invalid. */
  clear(): void {
    this.pages = [];
    this.pageClass = [];
    this.pageCellBytes = [];
    this.pageLive = [];
    this.pageFresh = [];
    this.pageFreeHead = [];
    this.pageRoomyAt = [];
    this.freePages = [];
    this.classes = ValueSlab.newClasses();
    this.reserved = 0;
    this.used = 0;
  }

  /** Writes `text` (`bytes` long in UTF-8; ASCII when {@link lastAscii}) into `page` at `offset`. */
  private encode(page: Buffer, text: string, offset: number, bytes: number): void {
    const buffer = page as CodingBuffer;
    if (this.lastAscii) buffer.latin1Write(text, offset, bytes);
    else buffer.utf8Write(text, offset, bytes);
  }

  /**
   * A cell of class `cls`, from the class's page that last gained room (a freed cell of it, else
   * one never used), else from a new page.
   */
  private allocCell(cls: number): number {
    const c = this.classes[cls]!;
    this.used += c.cellBytes;
    let page: number;
    if (c.roomy.length > 0) {
      page = c.roomy[c.roomy.length - 1]!;
    } else {
      page = this.newPage(SLAB_PAGE_BYTES, cls);
      this.pageFresh[page] = c.cellsPerPage;
      this.pageFreeHead[page] = NO_CELL;
      this.pageLive[page] = 0;
      this.pageRoomyAt[page] = c.roomy.length;
      c.roomy.push(page);
    }
    if (page === c.emptyPage) c.emptyPage = -1;
    let cell = this.pageFreeHead[page]!;
    if (cell !== NO_CELL) {
      const buffer = this.pages[page]!;
      const offset = cell * c.cellBytes;
      this.pageFreeHead[page] = buffer[offset]! | (buffer[offset + 1]! << 8);
    } else {
      cell = c.cellsPerPage - this.pageFresh[page]!;
      this.pageFresh[page] = this.pageFresh[page]! - 1;
    }
    this.pageLive[page] = this.pageLive[page]! + 1;
    if (this.pageFreeHead[page] === NO_CELL && this.pageFresh[page] === 0) {
      // Full: off the roomy list (it is the last one).
      c.roomy.pop();
      this.pageRoomyAt[page] = -1;
    }
    return page * CELLS_PER_PAGE + cell;
  }

  /** Gives a page's memory back and its number to {@link freePages}. */
  private releasePage(page: number): void {
    this.reserved -= this.pages[page]!.length;
    this.pages[page] = undefined;
    this.freePages.push(page);
  }

  /** Stores a value above {@link MAX_CELL_BYTES} in a page of its own. */
  private writeOwnPage(text: string, bytes: number): number {
    const page = this.newPage(bytes, OWN_PAGE);
    this.used += bytes;
    this.encode(this.pages[page]!, text, 0, bytes);
    return page * CELLS_PER_PAGE;
  }

  /**
   * A new page of `bytes` bytes for class `cls`; its number.
   * @throws CacheError OUT_OF_MEMORY past {@link MAX_PAGES} pages
   */
  private newPage(bytes: number, cls: number): number {
    let page = this.freePages.pop();
    if (page === undefined) {
      if (this.pages.length >= MAX_PAGES) throw new CacheError('OUT_OF_MEMORY', `value slab full: ${MAX_PAGES} pages`);
      page = this.pages.length;
      this.pages.push(undefined);
      this.pageClass.push(cls);
      this.pageCellBytes.push(0);
      this.pageLive.push(0);
      this.pageFresh.push(0);
      this.pageFreeHead.push(NO_CELL);
      this.pageRoomyAt.push(-1);
    }
    this.pages[page] = Buffer.allocUnsafeSlow(bytes);
    this.pageClass[page] = cls;
    this.pageCellBytes[page] = cls === OWN_PAGE ? 0 : this.classes[cls]!.cellBytes;
    this.reserved += bytes;
    return page;
  }
}
