/**
 * One entry of the local store and its budgeted size.
 *
 * The size is an estimate the store's byte budget (`maxMemory`) is charged with, not an exact
 * measurement: V8 does not expose the size of one object. It errs on the safe side so that a
 * full store stays within its budget.
 */
import type { Version } from '../hlc.js';
import { cellBytesFor } from './value-slab.js';

/**
 * One stored entry, as `LocalStore` takes it in `apply` and hands it out from `get`/`peek`.
 *
 * The store does not keep the object: it copies the value string and the version's parts into
 * per-slot columns, and builds a fresh object on each read.
 */
export interface StoredEntry {
  /** The JSON text of the value, or null for a tombstone (a delete marker). */
  value: string | null;
  /** The write's version; last-writer-wins compares these with `compareVersions`. */
  version: Version;
  /** Expiry time in ms since the Unix epoch; 0 = never. The entry is dead once `expiresAt <= now`. */
  expiresAt: number;
}

/** True when the entry is a tombstone: a delete marker that keeps an older value from coming back. */
export function isTombstone(entry: StoredEntry): boolean {
  return entry.value === null;
}

/**
 * Fixed cost of one entry beyond its key and value characters, in bytes.
 *
 * Measured on Node 20.20 / V8 11.3 (x64; Node's default build has no pointer compression, so
 * pointers are 8 bytes) with a throwaway script: fill a `LocalStore` (default policy, S3-FIFO)
 * with N entries whose versions come from `JSON.parse` as they would off the wire, keys and
 * values already held elsewhere, and divide the growth of `heapUsed + arrayBuffers` (after
 * `global.gc()`; the per-slot columns are typed arrays, outside the V8 heap) by N. For N from
 * 200,000 to 1,000,000 it came to 136-165 bytes per entry with no TTL, 157-185 with a TTL on
 * every entry (the spread is the growth steps of the hash tables and of the slot arrays, which
 * double). The pieces:
 *
 * - key index `Map` slot (hash table entry and bucket share)        28-37 bytes
 * - the engine's slot: key and value pointers, size, expiry           32 bytes
 * - the policy's per-slot typed arrays (S3-FIFO's ghost queue incl.) 40-50 bytes
 * - this store's columns: version wall time, logical counter, writer
 *   id pointer, expiry time                                           32 bytes
 * - all of them grown by doubling: up to twice that right after a growth
 * - expiry-heap slot (two parallel arrays, growth slack)           16-24 bytes, TTL entries only
 *
 * (Before the columns, each entry was an object holding a version tuple: 146 bytes more.)
 *
 * On top of that came the key's and value's string headers (16 bytes each, plus padding to
 * 8 bytes), which the 2-bytes-per-code-unit charge does not cover for short one-byte strings:
 * ~185 + 2 * 23 rounded up gave 240. Since the values moved to the value slab (`value-slab.ts`)
 * the value is charged its cell instead (its string header gone, 4 bytes of length column
 * added), and the figure was kept: it errs on the safe side by about 20 bytes. It does not
 * cover a hash table caught right after it doubled (up to ~60 bytes more per entry at that
 * moment), nor freed slab cells kept for reuse by their size class (`store.slabBytes` shows the
 * slab's pages).
 */
export const ENTRY_OVERHEAD_BYTES = 240;

/**
 * The budgeted size of an entry in bytes: {@link ENTRY_OVERHEAD_BYTES}, plus 2 bytes per UTF-16
 * code unit of the key (V8 stores a string with a character above U+00FF at 2 bytes per code
 * unit, its worst case; Latin-1 strings take 1, so this is an upper bound), plus the value
 * slab cell its value takes ({@link cellBytesFor} of its UTF-8 length: the smallest size class
 * that holds it, at most about 1.25 times its bytes; its own length above 16 KiB).
 *
 * @param key the entry's key
 * @param value the entry's JSON text, or null for a tombstone (no cell)
 */
export function entryBytes(key: string, value: string | null): number {
  return entryBytesOfLength(key, value === null ? -1 : Buffer.byteLength(value, 'utf8'));
}

/**
 * {@link entryBytes} for a value whose UTF-8 length the caller measured already (the store's
 * write path, which needs the length for the slab too).
 * @param valueBytes the value's UTF-8 length in bytes; -1 for a tombstone
 */
export function entryBytesOfLength(key: string, valueBytes: number): number {
  return ENTRY_OVERHEAD_BYTES + 2 * key.length + (valueBytes < 0 ? 0 : cellBytesFor(valueBytes));
}
