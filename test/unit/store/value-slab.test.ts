import { describe, expect, it } from 'vitest';
import { CELL_SIZES, CELLS_PER_PAGE, cellBytesFor, MAX_CELL_BYTES, MIN_CELL_BYTES, SLAB_PAGE_BYTES, ValueSlab } from '../../../src/store/value-slab.js';
import { mulberry32 as rng } from '../../support/seeded-random.js';

describe('value slab size classes', () => {
  it('grow by about 1.25 in steps of 8 bytes, from the smallest cell to the largest', () => {
    expect(CELL_SIZES[0]).toBe(MIN_CELL_BYTES);
    expect(CELL_SIZES[CELL_SIZES.length - 1]).toBe(MAX_CELL_BYTES);
    for (let i = 1; i < CELL_SIZES.length; i++) {
      const [before, size] = [CELL_SIZES[i - 1]!, CELL_SIZES[i]!];
      expect(size % 8).toBe(0);
      expect(size).toBeGreaterThan(before);
      expect(size).toBeLessThanOrEqual(Math.max(before + 8, Math.ceil((before * 1.25) / 8) * 8));
    }
  });

  it('give a value the smallest cell that holds it, and a value above the largest cell its own size', () => {
    expect(cellBytesFor(0)).toBe(MIN_CELL_BYTES);
    for (let bytes = 1; bytes <= MAX_CELL_BYTES; bytes += 7) {
      const cell = cellBytesFor(bytes);
      expect(cell).toBeGreaterThanOrEqual(bytes);
      const index = CELL_SIZES.indexOf(cell);
      expect(index).toBeGreaterThanOrEqual(0);
      if (index > 0) expect(CELL_SIZES[index - 1]!).toBeLessThan(bytes);
    }
    expect(cellBytesFor(MAX_CELL_BYTES + 1)).toBe(MAX_CELL_BYTES + 1);
  });
});

describe('ValueSlab', () => {
  it('reads back ASCII, 2-, 3- and 4-byte UTF-8 texts, empty and above the largest cell', () => {
    const slab = new ValueSlab();
    const texts = ['', '"hello"', '"é"', '"€ 5"', '"😀 and 🎉"', JSON.stringify('x'.repeat(MAX_CELL_BYTES + 100)), JSON.stringify('é'.repeat(9000))];
    const stored = texts.map((text) => {
      const handle = slab.write(text);
      expect(slab.lastBytes).toBe(Buffer.byteLength(text));
      expect(slab.lastAscii).toBe(/^[\x00-\x7f]*$/.test(text));
      expect(Number.isInteger(handle) && handle >= 0 && handle < 2 ** 31).toBe(true);
      return { text, handle, bytes: slab.lastBytes, ascii: slab.lastAscii };
    });
    for (const { text, handle, bytes, ascii } of stored) expect(slab.read(handle, bytes, ascii)).toBe(text);
    expect(slab.usedBytes).toBe(stored.reduce((sum, s) => sum + cellBytesFor(s.bytes), 0));
  });

  it('reuses freed cells of a class before it takes a new page', () => {
    const slab = new ValueSlab();
    const value = JSON.stringify('v'.repeat(100));
    const perPage = Math.floor(SLAB_PAGE_BYTES / cellBytesFor(value.length));
    const handles = Array.from({ length: perPage }, () => slab.write(value));
    expect(slab.reservedBytes).toBe(SLAB_PAGE_BYTES);
    for (const handle of handles.slice(0, 10)) slab.free(handle);
    const again = Array.from({ length: 10 }, () => slab.write(value));
    expect(new Set(again)).toEqual(new Set(handles.slice(0, 10)));
    expect(slab.reservedBytes).toBe(SLAB_PAGE_BYTES);
    slab.write(value);
    expect(slab.reservedBytes).toBe(2 * SLAB_PAGE_BYTES);
  });

  it('gives back the page of a value above the largest cell when it is freed, and reuses its number', () => {
    const slab = new ValueSlab();
    const big = JSON.stringify('b'.repeat(100_000));
    const handle = slab.write(big);
    expect(slab.reservedBytes).toBe(big.length);
    slab.free(handle);
    expect(slab.reservedBytes).toBe(0);
    expect(slab.usedBytes).toBe(0);
    const next = slab.write(JSON.stringify('c'.repeat(50_000)));
    expect(Math.floor(next / CELLS_PER_PAGE)).toBe(Math.floor(handle / CELLS_PER_PAGE));
  });

  it('gives back the pages of a class whose values are gone, all but one, for any class to reuse', () => {
    const slab = new ValueSlab();
    const small = JSON.stringify('s'.repeat(100));
    const perPage = Math.floor(SLAB_PAGE_BYTES / cellBytesFor(small.length));
    const handles = Array.from({ length: 5 * perPage }, () => slab.write(small));
    expect(slab.reservedBytes).toBe(5 * SLAB_PAGE_BYTES);
    // Freeing every other value empties no page.
    for (let i = 0; i < handles.length; i += 2) slab.free(handles[i]!);
    expect(slab.reservedBytes).toBe(5 * SLAB_PAGE_BYTES);
    for (let i = 1; i < handles.length; i += 2) slab.free(handles[i]!);
    expect(slab.reservedBytes).toBe(SLAB_PAGE_BYTES);
    expect(slab.usedBytes).toBe(0);
    // Another class takes the pages given back: no page number grows past the five.
    const large = JSON.stringify('L'.repeat(1000));
    const perLargePage = Math.floor(SLAB_PAGE_BYTES / cellBytesFor(large.length));
    const others = Array.from({ length: 4 * perLargePage }, () => slab.write(large));
    expect(slab.reservedBytes).toBe(5 * SLAB_PAGE_BYTES);
    expect(Math.max(...others.map((h) => Math.floor(h / CELLS_PER_PAGE)))).toBeLessThan(5);
    for (const handle of others) expect(slab.read(handle, large.length, true)).toBe(large);
  });

  it('rewrites in place only a text of the same size class', () => {
    const slab = new ValueSlab();
    const handle = slab.write('"abcdefghij"');
    expect(slab.rewrite(handle, '"ABCDEFGHIJ"')).toBe(true);
    expect(slab.read(handle, slab.lastBytes, slab.lastAscii)).toBe('"ABCDEFGHIJ"');
    expect(slab.rewrite(handle, JSON.stringify('z'.repeat(500)))).toBe(false);
    expect(slab.read(handle, 12, true)).toBe('"ABCDEFGHIJ"');
    expect(slab.rewrite(handle, JSON.stringify('z'.repeat(MAX_CELL_BYTES)))).toBe(false);
  });

  it('keeps every live text intact over a random sequence of writes, rewrites and frees', () => {
    const random = rng(77);
    const slab = new ValueSlab();
    const live = new Map<number, { text: string; bytes: number; ascii: boolean }>();
    for (let step = 0; step < 20_000; step++) {
      const handles = [...live.keys()];
      if (handles.length > 0 && random() < 0.4) {
        const handle = handles[Math.floor(random() * handles.length)]!;
        slab.free(handle);
        live.delete(handle);
        continue;
      }
      const length = random() < 0.02 ? 17_000 + Math.floor(random() * 3000) : Math.floor(random() * 400);
      const text = JSON.stringify(`${step}:` + (random() < 0.2 ? 'ü' : 'a').repeat(length));
      if (handles.length > 0 && random() < 0.3) {
        const handle = handles[Math.floor(random() * handles.length)]!;
        if (slab.rewrite(handle, text)) {
          live.set(handle, { text, bytes: slab.lastBytes, ascii: slab.lastAscii });
          continue;
        }
      }
      const handle = slab.write(text);
      expect(live.has(handle)).toBe(false);
      live.set(handle, { text, bytes: slab.lastBytes, ascii: slab.lastAscii });
    }
    let used = 0;
    for (const [handle, { text, bytes, ascii }] of live) {
      expect(slab.read(handle, bytes, ascii)).toBe(text);
      used += cellBytesFor(bytes);
    }
    expect(slab.usedBytes).toBe(used);
    expect(slab.reservedBytes).toBeGreaterThanOrEqual(used);
    // Once every value is gone, each class keeps at most its one empty page.
    for (const handle of live.keys()) slab.free(handle);
    expect(slab.usedBytes).toBe(0);
    expect(slab.reservedBytes).toBeLessThanOrEqual(CELL_SIZES.length * SLAB_PAGE_BYTES);
    expect(slab.reservedBytes % SLAB_PAGE_BYTES).toBe(0);
  });

  it('drops every page on clear', () => {
    const slab = new ValueSlab();
    slab.write('"a"');
    slab.write(JSON.stringify('b'.repeat(20_000)));
    slab.clear();
    expect(slab.reservedBytes).toBe(0);
    expect(slab.usedBytes).toBe(0);
    const handle = slab.write('"c"');
    expect(slab.read(handle, 3, true)).toBe('"c"');
  });
});
