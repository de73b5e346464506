/**
 * The hash that places keys and virtual nodes on the ring.
 *
 * Algorithm: MurmurHash3 x86_32 (Austin Appleby, SMHasher, public domain), seed 0 unless told,
 * over the UTF-8 bytes of the key. The result is an unsigned 32-bit integer in [0, 2^32) and is
 * the same on every peer, platform and browser, because it depends only on the bytes and uses
 * 32-bit integer arithmetic (`Math.imul`, shifts) with no floating-point step.
 *
 * Known vectors (seed 0): `hashKey('') === 0`, `hashKey('abc') === 0xb3dd93fa`,
 * `hashKey('The quick brown fox jumps over the lazy dog') === 0x2e4ff723`.
 *
 * {@link hashKey} encodes UTF-8 inline from the string's UTF-16 code units, as `TextEncoder` would
 * (a surrogate pair becomes one 4-byte sequence, a lone surrogate becomes U+FFFD `EF BF BD`),
 * so the per-request path allocates nothing. {@link hashBytes} is the same function on raw bytes.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one 4-byte little-endian block `k` into the running hash `h` (MurmurHash3 body round). */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Mixes the 1-3 trailing bytes (packed little-endian in `k`) and the length, then avalanches. */
function finish(h: number, k: number, tailBytes: number, length: number): number {
  if (tailBytes > 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  // `length` is a byte count; MurmurHash3 folds it in modulo 2^32.
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3 x86_32 of raw bytes.
 * @param bytes the input
 * @param seed 32-bit seed; default 0 (the ring's seed)
 * @returns an unsigned 32-bit integer in [0, 2^32)
 */
export function hashBytes(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blockEnd = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blockEnd; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixBlock(h, k);
  }
  // Trailing 1-3 bytes, little-endian, as MurmurHash3's tail switch reads them.
  let k = 0;
  for (let i = length - 1; i >= blockEnd; i--) k = (k << 8) | bytes[i]!;
  return finish(h, k, length & 3, length);
}

/**
 * MurmurHash3 x86_32 of the UTF-8 encoding of `key`, without materialising the bytes:
 * `hashKey(s) === hashBytes(new TextEncoder().encode(s))` for every string, lone surrogates
 * included. This runs on every request.
 * @param key any string
 * @param seed 32-bit seed; default 0 (the ring's seed)
 * @returns an unsigned 32-bit integer in [0, 2^32)
 */
export function hashKey(key: string, seed = 0): number {
  const units = key.length;
  let h = seed | 0;
  // Bytes not yet mixed, packed little-endian (first byte lowest), and how many there are (0-3).
  let pending = 0;
  let pendingBytes = 0;
  let length = 0;
  let i = 0;

  // ASCII fast path: while aligned on a block boundary, four ASCII code units are one block.
  // Most keys are ASCII, so this handles them without per-byte bookkeeping.
  for (; i + 3 < units; i += 4) {
    const a = key.charCodeAt(i);
    const b = key.charCodeAt(i + 1);
    const c = key.charCodeAt(i + 2);
    const d = key.charCodeAt(i + 3);
    if ((a | b | c | d) >= 0x80) break;
    h = mixBlock(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  length = i;

  for (; i < units; i++) {
    const unit = key.charCodeAt(i);
    // The code point's UTF-8 bytes packed little-endian (first byte lowest), and their count.
    let encoded: number;
    let count: number;
    if (unit < 0x80) {
      encoded = unit;
      count = 1;
    } else if (unit < 0x800) {
      encoded = (0xc0 | (unit >> 6)) | ((0x80 | (unit & 0x3f)) << 8);
      count = 2;
    } else if (unit < 0xd800 || unit > 0xdfff) {
      encoded = (0xe0 | (unit >> 12)) | ((0x80 | ((unit >> 6) & 0x3f)) << 8) | ((0x80 | (unit & 0x3f)) << 16);
      count = 3;
    } else {
      const next = i + 1 < units ? key.charCodeAt(i + 1) : 0;
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = ((unit - 0xd800) << 10) + (next - 0xdc00) + 0x10000;
        i++;
        encoded =
          (0xf0 | (cp >> 18)) |
          ((0x80 | ((cp >> 12) & 0x3f)) << 8) |
          ((0x80 | ((cp >> 6) & 0x3f)) << 16) |
          ((0x80 | (cp & 0x3f)) << 24);
        count = 4;
      } else {
        // A lone surrogate has no UTF-8 form; TextEncoder (WHATWG Encoding) writes U+FFFD, EF BF BD.
        encoded = 0xbdbfef;
        count = 3;
      }
    }
    length += count;
    const total = pendingBytes + count;
    if (total < 4) {
      pending |= encoded << (pendingBytes << 3);
      pendingBytes = total;
    } else {
      h = mixBlock(h, pending | (encoded << (pendingBytes << 3)));
      // The bytes that spilled past the block. A spill (total > 4) needs pendingBytes >= 1, so
      // the shift is in [8, 24], never the shift by 32 that JavaScript reads as a shift by 0.
      pending = total > 4 ? encoded >>> ((4 - pendingBytes) << 3) : 0;
      pendingBytes = total - 4;
    }
  }
  return finish(h, pending, pendingBytes, length);
}
