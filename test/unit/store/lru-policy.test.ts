import { describe, expect, it } from 'vitest';
import { LruPolicy } from '../../../src/store/eviction-policy.js';
import { mulberry32 as rng } from '../../support/seeded-random.js';


describe('LruPolicy', () => {
  it('has no victim when empty', () => {
    const lru = new LruPolicy();
    expect(lru.victim()).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('names the least recently inserted key when nothing was accessed', () => {
    const lru = new LruPolicy();
    for (const key of ['a', 'b', 'c']) lru.onInsert(key);
    expect(lru.victim()).toBe('a');
    expect(lru.keysByRecency()).toEqual(['a', 'b', 'c']);
  });

  it('moves an accessed key to the most recent end', () => {
    const lru = new LruPolicy();
    for (const key of ['a', 'b', 'c']) lru.onInsert(key);
    lru.onAccess('a');
    expect(lru.victim()).toBe('b');
    lru.onAccess('b');
    expect(lru.keysByRecency()).toEqual(['c', 'a', 'b']);
    lru.onAccess('b'); // already the most recent: no change
    expect(lru.keysByRecency()).toEqual(['c', 'a', 'b']);
  });

  it('removes keys from the tail, the middle and the head', () => {
    const lru = new LruPolicy();
    for (const key of ['a', 'b', 'c', 'd']) lru.onInsert(key);
    lru.onRemove('a');
    expect(lru.victim()).toBe('b');
    lru.onRemove('c');
    expect(lru.keysByRecency()).toEqual(['b', 'd']);
    lru.onRemove('d');
    expect(lru.keysByRecency()).toEqual(['b']);
    lru.onRemove('b');
    expect(lru.victim()).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('ignores unknown keys in onAccess and onRemove', () => {
    const lru = new LruPolicy();
    lru.onInsert('a');
    lru.onAccess('zz');
    lru.onRemove('zz');
    expect(lru.keysByRecency()).toEqual(['a']);
  });

  it('treats a second insert of a tracked key as an access, not a duplicate', () => {
    const lru = new LruPolicy();
    for (const key of ['a', 'b']) lru.onInsert(key);
    lru.onInsert('a');
    expect(lru.size).toBe(2);
    expect(lru.keysByRecency()).toEqual(['b', 'a']);
  });

  it('forgets everything on clear and works afterwards', () => {
    const lru = new LruPolicy();
    for (const key of ['a', 'b']) lru.onInsert(key);
    lru.clear();
    expect(lru.victim()).toBeUndefined();
    expect(lru.size).toBe(0);
    lru.onInsert('c');
    expect(lru.victim()).toBe('c');
  });

  it('agrees with a reference model over a random operation sequence', () => {
    const random = rng(7);
    const lru = new LruPolicy();
    // Reference: an array ordered least to most recent.
    const model: string[] = [];
    for (let step = 0; step < 5000; step++) {
      const key = `k${Math.floor(random() * 50)}`;
      const op = random();
      const at = model.indexOf(key);
      if (op < 0.4) {
        lru.onInsert(key);
        if (at >= 0) model.splice(at, 1);
        model.push(key);
      } else if (op < 0.7) {
        lru.onAccess(key);
        if (at >= 0) {
          model.splice(at, 1);
          model.push(key);
        }
      } else if (op < 0.9) {
        lru.onRemove(key);
        if (at >= 0) model.splice(at, 1);
      } else {
        const victim = lru.victim();
        expect(victim).toBe(model[0]);
        if (victim !== undefined) {
          lru.onRemove(victim);
          model.shift();
        }
      }
      expect(lru.size).toBe(model.length);
    }
    expect(lru.keysByRecency()).toEqual(model);
  });
});
