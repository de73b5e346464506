import { describe, expect, it } from 'vitest';
import { Float64Column, Int32Column, SLOT_PAGE_SLOTS, Uint8Column, ValueColumn } from '../../../src/store/slot-columns.js';
import { createStore } from '../../../src/store/create-store.js';
import { EVICTION_POLICIES } from '../../../src/store/slot-policy.js';
import { LocalStore } from '../../../src/store/local-store.js';

/** Slots past two page boundaries. */
const BEYOND_PAGES = 2 * SLOT_PAGE_SLOTS + 123;

describe('paged slot columns', () => {
  it('start with the initial value, and keep every value through growth within the first page and across pages', () => {
    const columns = [new Int32Column(-1, 3), new Uint8Column(255, 3), new Float64Column(0, 3)];
    for (const column of columns) {
      expect(column.length).toBe(3);
      expect([0, 1, 2].map((s) => column.get(s))).toEqual(Array(3).fill(column instanceof Float64Column ? 0 : column instanceof Uint8Column ? 255 : -1));
      column.set(2, 7);
      // The first page at least doubles.
      column.grow(4);
      expect(column.length).toBe(6);
      column.grow(BEYOND_PAGES);
      expect(column.length).toBe(BEYOND_PAGES);
      for (const slot of [3, SLOT_PAGE_SLOTS - 1, SLOT_PAGE_SLOTS, BEYOND_PAGES - 1]) column.set(slot, slot % 200);
      expect(column.get(2)).toBe(7);
      for (const slot of [3, SLOT_PAGE_SLOTS - 1, SLOT_PAGE_SLOTS, BEYOND_PAGES - 1]) expect(column.get(slot)).toBe(slot % 200);
      // Untouched slots of a later page hold the initial value.
      expect(column.get(SLOT_PAGE_SLOTS + 1)).toBe(column.get(1));
      column.fill(5);
      expect([0, SLOT_PAGE_SLOTS, BEYOND_PAGES - 1].map((s) => column.get(s))).toEqual([5, 5, 5]);
    }
  });

  it('past the first page, adds pages only as long as needed and doubles the last one up to a full page', () => {
    const column = new Float64Column(0, SLOT_PAGE_SLOTS);
    column.set(SLOT_PAGE_SLOTS - 1, 1.5);
    column.grow(SLOT_PAGE_SLOTS + 1);
    expect(column.length).toBe(SLOT_PAGE_SLOTS + 1);
    column.set(SLOT_PAGE_SLOTS, 2.5);
    column.grow(SLOT_PAGE_SLOTS + 2);
    expect(column.length).toBe(SLOT_PAGE_SLOTS + 2);
    column.grow(SLOT_PAGE_SLOTS + 3);
    expect(column.length).toBe(SLOT_PAGE_SLOTS + 4);
    column.grow(2 * SLOT_PAGE_SLOTS + 1);
    expect(column.length).toBe(2 * SLOT_PAGE_SLOTS + 1);
    expect([column.get(SLOT_PAGE_SLOTS - 1), column.get(SLOT_PAGE_SLOTS), column.get(2 * SLOT_PAGE_SLOTS)]).toEqual([1.5, 2.5, 0]);
  });

  it('holds JavaScript values the same way', () => {
    const column = new ValueColumn<string | undefined>(undefined, 1);
    column.set(0, 'a');
    column.grow(BEYOND_PAGES);
    column.set(BEYOND_PAGES - 1, 'z');
    expect(column.get(0)).toBe('a');
    expect(column.get(SLOT_PAGE_SLOTS + 5)).toBeUndefined();
    expect(column.get(BEYOND_PAGES - 1)).toBe('z');
    column.fill('');
    expect(column.get(BEYOND_PAGES - 1)).toBe('');
  });
});

describe('a store past several pages of slots', () => {
  it.each(EVICTION_POLICIES.filter((p) => p !== 'none'))('keeps every entry and evicts at its bound (%s)', (policy) => {
    const max = BEYOND_PAGES;
    const store = createStore<number>({ maxEntries: max, policy });
    for (let i = 0; i < max; i++) store.set(`k${i}`, i);
    expect(store.size).toBe(max);
    for (let i = 0; i < max; i += 997) expect(store.get(`k${i}`)).toBe(i);
    expect(store.get(`k${max - 1}`)).toBe(max - 1);
    for (let i = 0; i < 1000; i++) store.set(`n${i}`, i);
    expect(store.size).toBe(max);
    expect(store.stats().evictions).toBeGreaterThanOrEqual(1000);
    for (let i = 0; i < max; i += 2) store.delete(`k${i}`);
    for (let i = 0; i < SLOT_PAGE_SLOTS; i++) store.set(`m${i}`, i);
    expect(store.get(`m${SLOT_PAGE_SLOTS - 1}`)).toBe(SLOT_PAGE_SLOTS - 1);
  });

  it("keeps each entry's version and expiry in a LocalStore", () => {
    const store = new LocalStore({ maxBytes: 1e12, tombstoneTtlMs: 60_000 });
    for (let i = 0; i < BEYOND_PAGES; i++) store.apply(`k${i}`, { value: `"${i}"`, version: [1_000 + i, i % 7, `w${i % 3}`], expiresAt: 0 });
    expect(store.size).toBe(BEYOND_PAGES);
    for (const i of [0, SLOT_PAGE_SLOTS - 1, SLOT_PAGE_SLOTS, BEYOND_PAGES - 1]) {
      expect(store.get(`k${i}`)).toEqual({ value: `"${i}"`, version: [1_000 + i, i % 7, `w${i % 3}`], expiresAt: 0 });
    }
    // An older version loses against the one held in a slot of a later page.
    expect(store.apply(`k${BEYOND_PAGES - 1}`, { value: '"old"', version: [1, 0, 'w0'], expiresAt: 0 })).toBe(false);
    expect(store.get(`k${BEYOND_PAGES - 1}`)?.value).toBe(`"${BEYOND_PAGES - 1}"`);

  });
});
