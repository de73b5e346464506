/**
 * The client's ring: rebuilt from a peer's ring view it places every key where the peer's own
 * HashRing does, and follows member changes.
 */
import { describe, expect, it } from 'vitest';
import { ClientRing } from '../../../src/client/client-ring.js';
import type { MemberRecord, MemberState } from '../../../src/membership/member.js';
import { HashRing } from '../../../src/ring/hash-ring.js';
import { describeRing } from '../../../src/ring/ring-view.js';

function member(id: string, state: MemberState = 'alive'): MemberRecord {
  return { id, url: `ws://127.0.0.1:${7000 + id.charCodeAt(0)}`, state, incarnation: 0, generation: 1 };
}

/** A peer's view of a ring over `members`, built the way a peer builds it (ring members only). */
function peerView(members: MemberRecord[], vnodes: number, replicas: number): { ring: HashRing; view: ReturnType<typeof describeRing> } {
  const ring = new HashRing(
    members.filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.id),
    { vnodes, replicas },
  );
  return { ring, view: describeRing(ring, members, 7, members[0]!.id) };
}

const KEYS = Array.from({ length: 2000 }, (_, i) => `user:${i}:${'x'.repeat(i % 7)}`);

describe('ClientRing', () => {
  it.each([
    // members, vnodes, replicas
    [[member('a'), member('b'), member('c')], 1024, 2],
    [[member('a'), member('b', 'suspect'), member('c', 'dead'), member('d', 'left'), member('e')], 64, 3],
    [[member('solo')], 16, 1],
  ])('rebuilt from a ring view it has the peer\'s checksum and primaries (%#)', (members, vnodes, replicas) => {
    const { ring, view } = peerView(members, vnodes, replicas);
    const client = ClientRing.fromSnapshot(view);
    expect(client.checksum).toBe(view.checksum);
    expect(client.size).toBe(ring.size);
    const urlOf = new Map(members.map((m) => [m.id, new URL(m.url).href]));
    for (const key of KEYS) {
      expect(client.primaryOf(key)).toBe(ring.primary(key));
      expect(client.primaryUrl(key)).toBe(urlOf.get(ring.primary(key)!));
    }
  });

  it('lists the URLs of ring members only, normalized', () => {
    const { view } = peerView([member('a'), member('b', 'dead'), member('c', 'suspect')], 8, 1);
    expect([...ClientRing.fromSnapshot(view).urls()].sort()).toEqual([new URL(member('a').url).href, new URL(member('c').url).href].sort());
  });

  it('follows member events: a death or a join changes placement, other changes do not', () => {
    const members = [member('a'), member('b'), member('c')];
    const ring = ClientRing.fromSnapshot(peerView(members, 32, 2).view);
    const c = members[2]!;

    expect(ring.withMember('c', c.url, 'suspect')).toBeUndefined();
    expect(ring.withMember('z', 'ws://127.0.0.1:1', 'dead')).toBeUndefined();

    const withoutC = ring.withMember('c', c.url, 'dead')!;
    expect(withoutC.checksum).toBe(peerView([member('a'), member('b')], 32, 2).ring.checksum);
    expect(KEYS.every((key) => withoutC.primaryOf(key) !== 'c')).toBe(true);

    const joined = withoutC.withMember('d', member('d').url, 'alive')!;
    const expected = peerView([member('a'), member('b'), member('d')], 32, 2).ring;
    expect(joined.checksum).toBe(expected.checksum);
    expect(KEYS.every((key) => joined.primaryOf(key) === expected.primary(key))).toBe(true);

    const moved = joined.withMember('d', 'ws://127.0.0.1:9999', 'alive')!;
    expect(moved.checksum).toBe(joined.checksum);
    expect(moved.urls().has('ws://127.0.0.1:9999/')).toBe(true);
  });

  it('groups keys by primary in order of first appearance, indices ascending', () => {
    const ring = ClientRing.fromSnapshot(peerView([member('a'), member('b'), member('c')], 64, 1).view);
    const keys = KEYS.slice(0, 50);
    const groups = ring.groupByPrimary(keys);
    expect(groups.flatMap((group) => group.indices).sort((x, y) => x - y)).toEqual(keys.map((_, i) => i));
    for (const group of groups) {
      expect(group.indices).toEqual([...group.indices].sort((x, y) => x - y));
      expect(group.indices.every((i) => ring.primaryUrl(keys[i]!) === group.url)).toBe(true);
    }
    expect(groups.map((group) => group.indices[0])).toEqual([...groups.map((group) => group.indices[0])].sort((x, y) => x! - y!));
  });

  it('refuses a snapshot with unusable placement parameters', () => {
    const { view } = peerView([member('a')], 8, 1);
    expect(() => ClientRing.fromSnapshot({ ...view, vnodes: 0 })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});
