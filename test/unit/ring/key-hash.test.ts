import { describe, it, expect } from 'vitest';
import { hashBytes, hashKey } from '../../../src/ring/key-hash.js';
import { mulberry32 } from '../../support/seeded-random.js';


const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const hex = (text: string): Uint8Array => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));

describe('hashBytes: MurmurHash3 x86_32 known vectors', () => {
  // SMHasher / widely published MurmurHash3_x86_32 vectors: [input bytes, seed, expected].
  const vectors: Array<[string, Uint8Array, number, number]> = [
    ['empty, seed 0', hex(''), 0, 0x00000000],
    ['empty, seed 1', hex(''), 1, 0x514e28b7],
    ['empty, seed 0xffffffff', hex(''), 0xffffffff, 0x81f16f39],
    ['ff ff ff ff', hex('ffffffff'), 0, 0x76293b50],
    ['21 43 65 87', hex('21436587'), 0, 0xf55b516b],
    ['21 43 65 87, seed 0x5082edee', hex('21436587'), 0x5082edee, 0x2362f9de],
    ['21 43 65', hex('214365'), 0, 0x7e4a8634],
    ['21 43', hex('2143'), 0, 0xa0f7b07a],
    ['21', hex('21'), 0, 0x72661cf4],
    ['00 00 00 00', hex('00000000'), 0, 0x2362f9de],
    ['00 00 00', hex('000000'), 0, 0x85f0b427],
    ['00 00', hex('0000'), 0, 0x30f4c306],
    ['00', hex('00'), 0, 0x514e28b7],
    ['aaaa', utf8('aaaa'), 0x9747b28c, 0x5a97808a],
    ['aaa', utf8('aaa'), 0x9747b28c, 0x283e0130],
    ['aa', utf8('aa'), 0x9747b28c, 0x5d211726],
    ['a', utf8('a'), 0x9747b28c, 0x7fa09ea6],
    ['abcd', utf8('abcd'), 0x9747b28c, 0xf0478627],
    ['abc', utf8('abc'), 0x9747b28c, 0xc84a62dd],
    ['ab', utf8('ab'), 0x9747b28c, 0x74875592],
    ['Hello, world!', utf8('Hello, world!'), 0x9747b28c, 0x24884cba],
    ['ππππππππ', utf8('ππππππππ'), 0x9747b28c, 0xd58063c1],
    ['a x 256', utf8('a'.repeat(256)), 0x9747b28c, 0x37405bdc],
    ['abc, seed 0', utf8('abc'), 0, 0xb3dd93fa],
    ['abcdbcdecdef..., seed 0', utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), 0, 0xee925b90],
    ['quick brown fox, seed 0x9747b28c', utf8('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    ['quick brown fox, seed 0', utf8('The quick brown fox jumps over the lazy dog'), 0, 0x2e4ff723],
  ];
  it.each(vectors)('%s', (_name, bytes, seed, expected) => {
    expect(hashBytes(bytes, seed)).toBe(expected);
  });
});

describe('hashKey', () => {
  it('matches the published vectors with seed 0 (the ring seed)', () => {
    expect(hashKey('')).toBe(0);
    expect(hashKey('abc')).toBe(0xb3dd93fa);
    expect(hashKey('hello')).toBe(0x248bfa47);
    expect(hashKey('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
  });

  it('hashes the UTF-8 bytes of non-ASCII text (published vector)', () => {
    expect(hashKey('ππππππππ', 0x9747b28c)).toBe(0xd58063c1);
    expect(hashKey('Hello, world!', 0x9747b28c)).toBe(0x24884cba);
  });

  it('returns an unsigned 32-bit integer', () => {
    const next = mulberry32(7);
    for (let n = 0; n < 1000; n++) {
      const hash = hashKey(`key-${next()}`);
      expect(Number.isInteger(hash)).toBe(true);
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(hash).toBeLessThan(2 ** 32);
    }
  });

  it('encodes a lone surrogate as U+FFFD, as TextEncoder does', () => {
    expect(hashKey('\ud800')).toBe(hashKey('\ufffd'));
    expect(hashKey('a\udc00b')).toBe(hashKey('a\ufffdb'));
    // A reversed pair is two lone surrogates, not one code point.
    expect(hashKey('\ude00\ud83d')).toBe(hashKey('\ufffd\ufffd'));
    expect(hashKey('x\ud83d')).toBe(hashBytes(utf8('x\ud83d')));
  });

  it('equals hashBytes(TextEncoder) at every alignment of 2-, 3- and 4-byte sequences', () => {
    for (const wide of ['é', '€', '\ufffd', '😀', '\ud800', '\udfff']) {
      for (let before = 0; before < 8; before++) {
        for (let after = 0; after < 5; after++) {
          const text = 'a'.repeat(before) + wide + wide + 'b'.repeat(after);
          expect(hashKey(text), JSON.stringify(text)).toBe(hashBytes(utf8(text)));
        }
      }
    }
  });

  it('equals hashBytes(TextEncoder) on random strings with emoji and lone surrogates', () => {
    const next = mulberry32(20240601);
    const ranges: Array<[number, number]> = [
      [0x20, 0x7f], // ASCII
      [0x80, 0x800], // 2-byte UTF-8
      [0x800, 0xd800], // 3-byte UTF-8 below the surrogates
      [0xd800, 0xe000], // surrogates, mostly unpaired
      [0xe000, 0x10000], // 3-byte UTF-8 above the surrogates
    ];
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const length = Math.floor(next() * 24);
      for (let i = 0; i < length; i++) {
        const pick = next();
        if (pick < 0.4) {
          text += String.fromCharCode(0x61 + Math.floor(next() * 26));
        } else if (pick < 0.55) {
          text += String.fromCodePoint(0x10000 + Math.floor(next() * 0x100000)); // astral, emoji included
        } else {
          const [low, high] = ranges[Math.floor(next() * ranges.length)]!;
          text += String.fromCharCode(low + Math.floor(next() * (high - low)));
        }
      }
      const expected = hashBytes(utf8(text));
      if (hashKey(text) !== expected) expect(hashKey(text), JSON.stringify(text)).toBe(expected);
    }
  });

  it('gives 10,000 sequential keys 10,000 distinct hashes', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(hashKey(`user:${i}`));
    // 10k random 32-bit values collide with probability ~1%; these are known not to.
    expect(seen.size).toBe(10_000);
  });
});
