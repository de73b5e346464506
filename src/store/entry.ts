/**
 * One entry of the local store and its budgeted size.
 *
 * The size is an estimate the store's byte budget (`maxMemory`) is charged with, not an exact
 * measurement: V8 does not expose the size of one object. It errs on the safe side so that a
 * full store stays within its budget.
 */
import type { Version } from '../hlc.js';

/**
 * One stored entry.
 *
 * The store keeps the object it is given by reference and hands the same object back from
 * `get`: treat it as immutable once applied (a changed `value` would break the byte accounting,
 * a changed `expiresAt` the expiry index).
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
 * pointers are 8 bytes) with a throwaway script: fill a `LocalStore` (then on its own LRU list) with N entries
 * whose versions come from `JSON.parse` as they would off the wire, half of them with a TTL,
 * and divide the growth of `process.memoryUsage().heapUsed` (after `global.gc()`, keys and
 * values already held elsewhere) by N. For N from 100,000 to 1,000,000 it came to 267-307
 * bytes per entry (256 with no TTL, 293 with all TTL at N = 200,000); the spread is the hash
 * tables' growth steps. Measured piece by piece:
 *
 * - store `Map` slot (hash table entry and bucket share)    28-37 bytes
 * - `StoredEntry` object (3 fields, `expiresAt` boxed)         56 bytes
 * - version tuple (array, elements, boxed wall time)           90 bytes
 * - LRU node and its `Map` slot                             76-85 bytes
 * - expiry-heap slot (two parallel arrays, growth slack)    16-24 bytes, TTL entries only
 *
 * That was the store before it ran on the slot engine of `createStore`. The engine replaces the
 * LRU node and its `Map` with a slot: places in the engine's key, value, size and expiry arrays
 * (32 bytes) and the policy's per-slot typed arrays (about 20-30 bytes; S3-FIFO's ghost queue
 * adds ~22 bytes per slot), all grown by doubling, so up to twice that right after a growth.
 * That is about the LRU node's cost, so the constant is kept (not re-measured).
 *
 * On top of that come the key's and value's string headers (16 bytes each, plus padding to
 * 8 bytes), which the 2-bytes-per-code-unit charge does not cover for short one-byte strings:
 * ~305 + 2 * 23 rounded up gives 352. It does not cover a hash table caught right after it
 * doubled (up to ~60 bytes more per entry at that moment), nor a value that is a slice of a
 * larger string V8 keeps alive (the caller should pass flat strings, as `JSON.stringify` makes).
 */
export const ENTRY_OVERHEAD_BYTES = 352;

/**
 * The budgeted size of an entry in bytes: {@link ENTRY_OVERHEAD_BYTES} plus 2 bytes per UTF-16
 * code unit of the key and the value (V8 stores a string with a character above U+00FF at
 * 2 bytes per code unit, its worst case; Latin-1 strings take 1, so this is an upper bound).
 *
 * @param key the entry's key
 * @param value the entry's JSON text, or null for a tombstone
 */
export function entryBytes(key: string, value: string | null): number {
  return ENTRY_OVERHEAD_BYTES + 2 * (key.length + (value === null ? 0 : value.length));
}
