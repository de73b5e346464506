import { describe, expect, it } from 'vitest';
import { HashRing } from '../../../src/ring/hash-ring.js';
import { isDesignatedSender } from '../../../src/replication/rebalancer.js';

const ring = (...ids: string[]) => new HashRing(ids, { vnodes: 8, replicas: 2 });

describe('isDesignatedSender', () => {
  it.each([
    // self, old owners, new owners, new ring members, restarted, suspect, expected
    ['a', ['a', 'b'], ['j', 'a'], ['a', 'b', 'j'], [], [], true], // join: the old primary sends
    ['b', ['a', 'b'], ['j', 'a'], ['a', 'b', 'j'], [], [], true], // ... the old replica loses the key: it sends before dropping
    ['b', ['a', 'b'], ['a', 'j'], ['a', 'b', 'j'], [], [], true], // (same, other order)
    ['b', ['a', 'b'], ['b', 'j'], ['a', 'b', 'j'], [], [], false], // a keeps-it holder that is not first stays quiet
    ['b', ['d', 'b'], ['b', 'c'], ['b', 'c'], [], [], true], // the old primary died: the surviving replica sends
    ['b', ['r', 'b'], ['r', 'b'], ['r', 'b'], ['r'], [], true], // r restarted empty: the other holder sends
    ['a', ['c', 'a'], ['d', 'a'], ['a', 'c', 'd'], [], ['c'], true], // the first old owner is suspect: the next one sends
    ['x', ['a', 'b'], ['x', 'a'], ['a', 'b', 'x'], [], [], true], // a stray copy outside the old list is sent too
    ['a', ['d', 'e'], ['a'], ['a'], [], [], true], // nobody of the old list is left
  ] as const)('%s: old %j new %j ring %j restarted %j suspect %j -> %s', (self, oldOwners, newOwners, members, restarted, suspect, expected) => {
    const isAlive = (id: string): boolean => !(suspect as readonly string[]).includes(id);
    expect(isDesignatedSender(self, oldOwners, newOwners, ring(...members), new Set(restarted), isAlive)).toBe(expected);
  });
});
