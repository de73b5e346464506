import { describe, expect, it } from 'vitest';
import { supersedes, type MemberRecord, type MemberState } from '../../../src/membership/member.js';
import { MemberList, type MemberListEvents } from '../../../src/membership/member-list.js';

const GEN = 1_000;

function rec(id: string, state: MemberState, incarnation = 0, generation = GEN, url = `ws://${id}:7000`): MemberRecord {
  return { id, url, state, incarnation, generation };
}

function newList(options: { now?: () => number; retentionMs?: number } = {}): MemberList {
  return new MemberList(rec('self', 'alive'), { retentionMs: options.retentionMs ?? 60_000, now: options.now ?? (() => 0) });
}

type EventName = keyof MemberListEvents;
const EVENTS: EventName[] = ['member:join', 'member:alive', 'member:suspect', 'member:dead', 'member:leave', 'member:update', 'self:refute'];

function record(list: MemberList): Array<{ event: EventName; payload: unknown }> {
  const seen: Array<{ event: EventName; payload: unknown }> = [];
  for (const event of EVENTS) list.on(event, (payload: unknown) => seen.push({ event, payload }));
  return seen;
}

describe('MemberList.apply merge rules', () => {
  // [known (undefined = unknown), incoming, accepted, resulting state, events fired (before member:update)]
  const table: Array<[string, MemberRecord | undefined, MemberRecord, boolean, MemberState | undefined, EventName[]]> = [
    ['unknown + alive', undefined, rec('a', 'alive', 0), true, 'alive', ['member:join']],
    ['unknown + suspect', undefined, rec('a', 'suspect', 2), true, 'suspect', ['member:join', 'member:suspect']],
    ['unknown + dead is kept', undefined, rec('a', 'dead', 1), true, 'dead', ['member:dead']],
    ['unknown + left is kept', undefined, rec('a', 'left', 1), true, 'left', ['member:leave']],

    ['alive 3 + alive 3', rec('a', 'alive', 3), rec('a', 'alive', 3), false, 'alive', []],
    ['alive 3 + alive 2', rec('a', 'alive', 3), rec('a', 'alive', 2), false, 'alive', []],
    ['alive 3 + alive 4', rec('a', 'alive', 3), rec('a', 'alive', 4), true, 'alive', []],
    ['alive 3 + suspect 2', rec('a', 'alive', 3), rec('a', 'suspect', 2), false, 'alive', []],
    ['alive 3 + suspect 3', rec('a', 'alive', 3), rec('a', 'suspect', 3), true, 'suspect', ['member:suspect']],
    ['alive 3 + suspect 4', rec('a', 'alive', 3), rec('a', 'suspect', 4), true, 'suspect', ['member:suspect']],
    ['alive 3 + dead 2', rec('a', 'alive', 3), rec('a', 'dead', 2), false, 'alive', []],
    ['alive 3 + dead 3', rec('a', 'alive', 3), rec('a', 'dead', 3), true, 'dead', ['member:dead']],
    ['alive 3 + left 0', rec('a', 'alive', 3), rec('a', 'left', 0), true, 'left', ['member:leave']],

    ['suspect 3 + alive 3', rec('a', 'suspect', 3), rec('a', 'alive', 3), false, 'suspect', []],
    ['suspect 3 + alive 4 (refuted)', rec('a', 'suspect', 3), rec('a', 'alive', 4), true, 'alive', ['member:alive']],
    ['suspect 3 + suspect 3', rec('a', 'suspect', 3), rec('a', 'suspect', 3), false, 'suspect', []],
    ['suspect 3 + suspect 4', rec('a', 'suspect', 3), rec('a', 'suspect', 4), true, 'suspect', ['member:suspect']],
    ['suspect 3 + dead 2', rec('a', 'suspect', 3), rec('a', 'dead', 2), false, 'suspect', []],
    ['suspect 3 + dead 3', rec('a', 'suspect', 3), rec('a', 'dead', 3), true, 'dead', ['member:dead']],
    ['suspect 3 + left 3', rec('a', 'suspect', 3), rec('a', 'left', 3), true, 'left', ['member:leave']],

    ['dead 3 + alive 3', rec('a', 'dead', 3), rec('a', 'alive', 3), false, 'dead', []],
    ['dead 3 + alive 4 (rejoin)', rec('a', 'dead', 3), rec('a', 'alive', 4), true, 'alive', ['member:join']],
    ['dead 3 + suspect 4', rec('a', 'dead', 3), rec('a', 'suspect', 4), false, 'dead', []],
    ['dead 3 + dead 4', rec('a', 'dead', 3), rec('a', 'dead', 4), false, 'dead', []],
    ['dead 3 + left 3', rec('a', 'dead', 3), rec('a', 'left', 3), true, 'left', ['member:leave']],

    ['left 3 + alive 9', rec('a', 'left', 3), rec('a', 'alive', 9), false, 'left', []],
    ['left 3 + suspect 9', rec('a', 'left', 3), rec('a', 'suspect', 9), false, 'left', []],
    ['left 3 + dead 9', rec('a', 'left', 3), rec('a', 'dead', 9), false, 'left', []],
    ['left 3 + left 4', rec('a', 'left', 3), rec('a', 'left', 4), false, 'left', []],

    ['dead gen 1 + alive gen 2 inc 0 (restart)', rec('a', 'dead', 7), rec('a', 'alive', 0, GEN + 1), true, 'alive', ['member:join']],
    ['left gen 1 + alive gen 2 (restart)', rec('a', 'left', 7), rec('a', 'alive', 0, GEN + 1), true, 'alive', ['member:join']],
    ['alive gen 1 + alive gen 2 (restart)', rec('a', 'alive', 7), rec('a', 'alive', 0, GEN + 1), true, 'alive', ['member:join']],
    ['suspect gen 1 + suspect gen 2', rec('a', 'suspect', 7), rec('a', 'suspect', 0, GEN + 1), true, 'suspect', ['member:join', 'member:suspect']],
    ['alive gen 1 + dead gen 2', rec('a', 'alive', 7), rec('a', 'dead', 0, GEN + 1), true, 'dead', ['member:dead']],
    ['alive gen 2 + alive gen 1 inc 9', rec('a', 'alive', 0, GEN + 1), rec('a', 'alive', 9), false, 'alive', []],
    ['dead gen 2 + alive gen 1 inc 9', rec('a', 'dead', 0, GEN + 1), rec('a', 'alive', 9), false, 'dead', []],
  ];

  it.each(table)('%s', (_name, known, incoming, accepted, state, events) => {
    const list = newList();
    if (known) expect(list.apply(known)).toBe(true);
    const seen = record(list);
    expect(list.apply(incoming)).toBe(accepted);
    expect(supersedes(known, incoming)).toBe(accepted);
    expect(list.get('a')?.state).toBe(state);
    if (accepted) {
      expect(list.get('a')).toEqual(incoming);
      expect(seen.map((s) => s.event)).toEqual([...events, 'member:update']);
      const payload = seen.at(-1)!.payload as { member: MemberRecord; previous?: MemberRecord };
      expect(payload.member).toEqual(incoming);
      expect(payload.previous).toEqual(known);
    } else {
      expect(list.get('a')).toEqual(known);
      expect(seen).toEqual([]);
    }
  });

  it('takes a new url only with an accepted record', () => {
    const list = newList();
    list.apply(rec('a', 'alive', 1, GEN, 'ws://old:1'));
    expect(list.apply(rec('a', 'alive', 1, GEN, 'ws://new:1'))).toBe(false);
    expect(list.get('a')?.url).toBe('ws://old:1');
    expect(list.apply(rec('a', 'alive', 2, GEN, 'ws://new:1'))).toBe(true);
    expect(list.get('a')?.url).toBe('ws://new:1');
  });

  it('hands out frozen copies, not the caller objects', () => {
    const list = newList();
    const incoming = rec('a', 'alive');
    list.apply(incoming);
    incoming.state = 'dead';
    expect(list.get('a')?.state).toBe('alive');
    expect(Object.isFrozen(list.get('a'))).toBe(true);
  });
});

describe('MemberList about self', () => {
  const refuted: Array<[string, MemberRecord, number | undefined]> = [
    ['suspect at our incarnation', rec('self', 'suspect', 0), 1],
    ['suspect at a higher incarnation', rec('self', 'suspect', 5), 6],
    ['dead at our incarnation', rec('self', 'dead', 0), 1],
    ['left from others', rec('self', 'left', 0), 1],
    ['alive (ignored)', rec('self', 'alive', 9), undefined],
    ['suspect of an older generation (ignored)', rec('self', 'suspect', 9, GEN - 1), undefined],
    ['suspect of a newer generation (ignored)', rec('self', 'suspect', 9, GEN + 1), undefined],
  ];

  it.each(refuted)('refutes %s', (_name, incoming, incarnation) => {
    const list = newList();
    const seen = record(list);
    expect(list.apply(incoming)).toBe(incarnation !== undefined);
    if (incarnation === undefined) {
      expect(seen).toEqual([]);
      expect(list.self).toEqual(rec('self', 'alive', 0));
    } else {
      expect(list.self).toEqual(rec('self', 'alive', incarnation));
      expect(seen).toEqual([{ event: 'self:refute', payload: list.self }]);
    }
  });

  it('ignores a suspicion older than its current incarnation', () => {
    const list = newList();
    list.apply(rec('self', 'suspect', 3));
    expect(list.self.incarnation).toBe(4);
    const seen = record(list);
    expect(list.apply(rec('self', 'suspect', 3))).toBe(false);
    expect(list.apply(rec('self', 'dead', 2))).toBe(false);
    expect(seen).toEqual([]);
    expect(list.apply(rec('self', 'dead', 4))).toBe(true);
    expect(list.self.incarnation).toBe(5);
  });

  it('does not refute once it has left', () => {
    const list = newList();
    const seen = record(list);
    const left = list.leave();
    expect(left).toEqual(rec('self', 'left', 0));
    expect(list.self.state).toBe('left');
    expect(seen.map((s) => s.event)).toEqual(['member:leave', 'member:update']);
    expect(list.leave()).toBeUndefined();
    expect(list.apply(rec('self', 'dead', 0))).toBe(false);
    expect(list.apply(rec('self', 'left', 0))).toBe(false);
    expect(list.ringMembers()).toEqual([]);
  });

  it('markLeft(self) is leave()', () => {
    const list = newList();
    expect(list.markLeft('self')?.state).toBe('left');
  });
});

describe('MemberList local helpers', () => {
  it('suspect() marks an alive member suspect at its incarnation, once', () => {
    const list = newList();
    list.apply(rec('a', 'alive', 2));
    const seen = record(list);
    expect(list.suspect('a')).toEqual(rec('a', 'suspect', 2));
    expect(list.suspect('a')).toBeUndefined();
    expect(list.suspect('self')).toBeUndefined();
    expect(list.suspect('nobody')).toBeUndefined();
    expect(seen.map((s) => s.event)).toEqual(['member:suspect', 'member:update']);
  });

  it('markDead() takes alive or suspect members, not dead, left or self', () => {
    const list = newList();
    list.apply(rec('a', 'alive', 1));
    list.apply(rec('b', 'suspect', 2));
    list.apply(rec('c', 'left', 0));
    expect(list.markDead('a')).toEqual(rec('a', 'dead', 1));
    expect(list.markDead('b')).toEqual(rec('b', 'dead', 2));
    expect(list.markDead('a')).toBeUndefined();
    expect(list.markDead('c')).toBeUndefined();
    expect(list.markDead('self')).toBeUndefined();
  });

  it('markLeft() marks another member left', () => {
    const list = newList();
    list.apply(rec('a', 'dead', 1));
    expect(list.markLeft('a')).toEqual(rec('a', 'left', 1));
    expect(list.markLeft('a')).toBeUndefined();
  });
});

describe('MemberList queries', () => {
  it('counts and lists members', () => {
    const list = newList();
    list.apply(rec('d', 'alive'));
    list.apply(rec('b', 'suspect'));
    list.apply(rec('c', 'dead'));
    list.apply(rec('a', 'left'));
    expect(list.size).toBe(5);
    expect(list.aliveCount).toBe(2);
    expect(list.ringMembers()).toEqual(['b', 'd', 'self']);
    expect(list.all().map((m) => m.id)).toEqual(['a', 'b', 'c', 'd', 'self']);
  });
});

describe('MemberList.reap', () => {
  it('forgets dead and left members after the retention, counted from their last state change', () => {
    let now = 0;
    const list = newList({ now: () => now, retentionMs: 1000 });
    list.apply(rec('alive', 'alive'));
    list.apply(rec('dead', 'alive'));
    list.markDead('dead');
    now = 500;
    list.apply(rec('left', 'left'));
    now = 1000;
    expect(list.reap()).toEqual([]);
    now = 1001;
    expect(list.reap()).toEqual(['dead']);
    expect(list.get('dead')).toBeUndefined();
    now = 1501;
    expect(list.reap()).toEqual(['left']);
    expect(list.all().map((m) => m.id)).toEqual(['alive', 'self']);
  });

  it('restarts the retention clock when a dead member is re-declared left', () => {
    let now = 0;
    const list = newList({ now: () => now, retentionMs: 1000 });
    list.apply(rec('a', 'dead'));
    now = 900;
    list.apply(rec('a', 'left'));
    now = 1500;
    expect(list.reap()).toEqual([]);
  });

  it('lets a restarted member rejoin over its dead record', () => {
    const list = newList();
    list.apply(rec('a', 'alive', 4));
    list.markDead('a');
    const seen = record(list);
    expect(list.apply(rec('a', 'alive', 0, GEN + 5))).toBe(true);
    expect(seen[0]).toEqual({ event: 'member:join', payload: { member: rec('a', 'alive', 0, GEN + 5), previous: rec('a', 'dead', 4) } });
    expect(list.ringMembers()).toEqual(['a', 'self']);
  });
});
