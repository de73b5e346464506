import { describe, expect, it } from 'vitest';
import { HashRing } from '../../../src/ring/hash-ring.js';
import { isDesignatedSender } from '../../../src/replication/rebalancer.js';

const ring = (...ids: string[]) => new HashRing(ids, { vnodes: 8, replicas: 2 });

describe('isDesignatedSender', () => {
  it.each([
    // self, old preference list, new ring members, restarted, expected
    ['a', ['a', 'b'], ['a', 'b', 'j'], [], true], // join: the old primary sends
    ['b', ['a', 'b'], ['a', 'b', 'j'], [], false], // ... the old replica does not
    ['b', ['d', 'b'], ['b', 'c'], [], true], // the old primary died: the surviving replica sends
    ['b', ['r', 'b'], ['r', 'b'], ['r'], true], // r restarted empty: the other holder sends
    ['x', ['a', 'b'], ['a', 'b', 'x'], [], true], // a stray copy outside the old list is sent too
    ['a', ['d', 'e'], ['a'], [], true], // nobody of the old list is left
  ] as const)('%s with old owners %j, ring %j, restarted %j -> %s', (self, oldOwners, members, restarted, expected) => {
    expect(isDesignatedSender(self, oldOwners, ring(...members), new Set(restarted))).toBe(expected);
  });
});
