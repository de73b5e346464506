import { describe, expect, it } from 'vitest';
import { retransmitLimit } from '../../../src/config.js';
import { GossipQueue } from '../../../src/membership/gossip-queue.js';
import type { MemberRecord, MemberState } from '../../../src/membership/member.js';

function rec(id: string, state: MemberState = 'alive', incarnation = 0, generation = 1): MemberRecord {
  return { id, url: `ws://${id}:7000`, state, incarnation, generation };
}

const config = { retransmitMult: 2 };

describe('GossipQueue', () => {
  it('returns nothing when empty or for a non-positive count', () => {
    const queue = new GossipQueue(config);
    expect(queue.take(5, 3)).toEqual([]);
    queue.enqueue(rec('a'));
    expect(queue.take(0, 3)).toEqual([]);
    expect(queue.size).toBe(1);
  });

  it('keeps one record per member id, the newer one', () => {
    const queue = new GossipQueue(config);
    expect(queue.enqueue(rec('a', 'alive', 1))).toBe(true);
    expect(queue.enqueue(rec('a', 'suspect', 1))).toBe(true);
    expect(queue.enqueue(rec('a', 'alive', 0))).toBe(false);
    expect(queue.enqueue(rec('a', 'suspect', 1))).toBe(false);
    expect(queue.size).toBe(1);
    expect(queue.take(10, 3)).toEqual([rec('a', 'suspect', 1)]);
  });

  it('drops a record after retransmitLimit(config, members) takes', () => {
    // members = 9: retransmitMult * ceil(log10(10)) = 2; members = 10: 2 * ceil(log10(11)) = 4.
    const table: Array<[number, number]> = [
      [1, 2],
      [9, 2],
      [10, 4],
      [100, 6],
    ];
    for (const [members, limit] of table) {
      expect(retransmitLimit(config, members)).toBe(limit);
      const queue = new GossipQueue(config);
      queue.enqueue(rec('a'));
      for (let i = 0; i < limit; i++) expect(queue.take(1, members)).toEqual([rec('a')]);
      expect(queue.size).toBe(0);
      expect(queue.take(1, members)).toEqual([]);
    }
  });

  it('takes the least-transmitted first, the newest among equals', () => {
    const queue = new GossipQueue({ retransmitMult: 10 });
    queue.enqueue(rec('a'));
    queue.enqueue(rec('b'));
    expect(queue.take(1, 3).map((r) => r.id)).toEqual(['b']);
    queue.enqueue(rec('c'));
    // a: 0, c: 0 (newer), b: 1
    expect(queue.take(3, 3).map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(queue.take(1, 3).map((r) => r.id)).toEqual(['c']);
  });

  it('restarts the count when a newer record replaces a queued one', () => {
    const queue = new GossipQueue(config);
    queue.enqueue(rec('a', 'alive', 0));
    queue.take(1, 3);
    queue.enqueue(rec('a', 'alive', 1));
    expect(queue.take(1, 3)).toEqual([rec('a', 'alive', 1)]);
    expect(queue.take(1, 3)).toEqual([rec('a', 'alive', 1)]);
    expect(queue.size).toBe(0);
  });

  it('clear() drops everything', () => {
    const queue = new GossipQueue(config);
    queue.enqueue(rec('a'));
    queue.enqueue(rec('b'));
    queue.clear();
    expect(queue.size).toBe(0);
  });
});
