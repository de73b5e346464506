import { describe, expect, it } from 'vitest';
import type { RingInfo } from '../../../src/client/cache-client.js';
import { ClusterView } from '../../../src/console/cluster-view.js';
import type { MemberState } from '../../../src/membership/member.js';
import { HashRing } from '../../../src/ring/hash-ring.js';

const VNODES = 16;
const REPLICAS = 2;

/** A ring snapshot as a peer would send it: ownership computed by the real placement. */
function ringOf(states: Record<string, MemberState>, options: { epoch?: number; self?: string; incarnations?: Record<string, number> } = {}): RingInfo {
  const ids = Object.keys(states).sort();
  const inRing = ids.filter((id) => states[id] === 'alive' || states[id] === 'suspect');
  const hashRing = new HashRing(inRing, { vnodes: VNODES, replicas: REPLICAS });
  const ownership = hashRing.ownership();
  return {
    epoch: options.epoch ?? 1,
    checksum: hashRing.checksum,
    replicas: REPLICAS,
    vnodes: VNODES,
    self: options.self ?? 'p1',
    peers: ids.map((id) => ({
      id,
      url: `ws://127.0.0.1:${7000 + Number(id.slice(1))}`,
      state: states[id]!,
      incarnation: options.incarnations?.[id] ?? 0,
      ownership: ownership.get(id) ?? 0,
    })),
  };
}

function member(id: string, state: MemberState, incarnation = 0) {
  return { peer: { id, url: `ws://127.0.0.1:${7000 + Number(id.slice(1))}`, state, incarnation }, state };
}

/** A manual clock. */
function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    set: (value: number) => {
      t = value;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function texts(view: ClusterView): string[] {
  return view.state.events.map((event) => event.text);
}

function pct(fraction: number): string {
  return (fraction * 100).toFixed(1);
}

describe('ClusterView: ring and strip', () => {
  it('starts empty', () => {
    const state = new ClusterView().state;
    expect(state).toEqual({ url: '', connection: 'connecting', epoch: 0, checksum: '', replicas: 0, peers: [], strip: new Array(64).fill(null), events: [] });
  });

  it('the first snapshot fills the rows (sorted, self marked) and the strip, and logs nothing', () => {
    const view = new ClusterView({ stripWidth: 16 });
    const ring = ringOf({ p3: 'alive', p1: 'alive', p2: 'alive', p9: 'dead' }, { epoch: 4, self: 'p2' });
    view.applyRing(ring);
    const state = view.state;
    expect(state.epoch).toBe(4);
    expect(state.checksum).toBe(ring.checksum);
    expect(state.replicas).toBe(REPLICAS);
    expect(state.peers.map((p) => [p.id, p.state, p.connected])).toEqual([
      ['p1', 'alive', false],
      ['p2', 'alive', true],
      ['p3', 'alive', false],
      ['p9', 'dead', false],
    ]);
    expect(state.peers[0]!.ownership).toBe(ring.peers[0]!.ownership);
    expect(state.events).toEqual([]);
    const placement = new HashRing(['p1', 'p2', 'p3'], { vnodes: VNODES, replicas: REPLICAS });
    expect(state.strip).toEqual(Array.from({ length: 16 }, (_, i) => placement.primaryForHash(Math.floor((i * 2 ** 32) / 16))));
    expect(new Set(state.strip)).toEqual(new Set(['p1', 'p2', 'p3']));
  });

  it('a join is logged with the share of the ring that moves, and the strip changes owners', () => {
    const t = clock();
    const view = new ClusterView({ now: t.now });
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }));
    const before = view.state.strip;
    expect(before).toHaveLength(64);
    expect(before).not.toContain('p4');
    const joined = ringOf({ p1: 'alive', p2: 'alive', p3: 'alive', p4: 'alive' }, { epoch: 2 });
    view.applyRing(joined);
    const share = joined.peers.find((p) => p.id === 'p4')!.ownership;
    expect(share).toBeGreaterThan(0);
    expect(view.state.events).toEqual([{ at: t.now(), level: 'info', text: `p4 joined: ${pct(share)}% of the ring moves to p4` }]);
    expect(texts(view)[0]).toMatch(/^p4 joined: \d+\.\d% of the ring moves to p4$/);
    const after = view.state.strip;
    expect(after).toContain('p4');
    // Only buckets that p4 took change owner.
    after.forEach((owner, i) => {
      if (owner !== 'p4') expect(owner).toBe(before[i]);
    });
    expect(view.state.peers.find((p) => p.id === 'p4')!.ownership).toBe(share);
  });

  it('a baseline snapshot (another peer\'s first ring) logs no joins', () => {
    const view = new ClusterView();
    view.applyRing(ringOf({ p1: 'alive' }));
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }, { self: 'p2' }), { baseline: true });
    expect(texts(view)).toEqual([]);
    expect(view.state.peers.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive', p4: 'alive' }, { self: 'p2' }));
    expect(texts(view)).toEqual([expect.stringMatching(/^p4 joined: /)]);
  });

  it('an empty ring gives an all-null strip', () => {
    const view = new ClusterView({ stripWidth: 8 });
    view.applyRing(ringOf({ p1: 'dead' }));
    expect(view.state.strip).toEqual(new Array(8).fill(null));
  });

  it('rejects a bad strip width or event bound', () => {
    expect(() => new ClusterView({ stripWidth: 0 })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => new ClusterView({ maxEvents: 1.5 })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});

describe('ClusterView: member events', () => {
  it('suspect, then dead 3.1 s later', () => {
    const t = clock();
    const view = new ClusterView({ now: t.now });
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }));
    view.applyMember(member('p3', 'suspect'));
    expect(view.state.peers.find((p) => p.id === 'p3')!.state).toBe('suspect');
    t.advance(1200);
    view.applyMember(member('p3', 'suspect', 0)); // a repeat: not logged again, the clock keeps running
    t.advance(1900);
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'dead' }, { epoch: 2 })); // the ring event comes first
    view.applyMember(member('p3', 'dead'));
    expect(view.state.events.map(({ level, text }) => [level, text])).toEqual([
      ['warn', 'p3 suspect'],
      ['error', 'p3 dead after 3.1 s'],
    ]);
    expect(view.state.peers.find((p) => p.id === 'p3')!.state).toBe('dead');
  });

  it('dead without a suspicion seen, a refutation, a leave', () => {
    const t = clock();
    const view = new ClusterView({ now: t.now });
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive', p4: 'alive' }));
    view.applyMember(member('p2', 'dead'));
    view.applyMember(member('p3', 'suspect'));
    view.applyMember(member('p3', 'alive', 1));
    view.applyMember(member('p4', 'left'));
    view.applyMember(member('p4', 'left'));
    expect(view.state.events.map(({ level, text }) => [level, text])).toEqual([
      ['error', 'p2 dead'],
      ['warn', 'p3 suspect'],
      ['info', 'p3 alive again (incarnation 1)'],
      ['info', 'p4 left'],
    ]);
    expect(view.state.peers.find((p) => p.id === 'p3')!.incarnation).toBe(1);
  });

  it('a known dead peer that comes back is logged as restarted, once', () => {
    const t = clock();
    const view = new ClusterView({ now: t.now });
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }));
    view.applyMember(member('p3', 'dead'));
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'dead' }, { epoch: 2 }));
    // By member event first (no ring change yet) ...
    view.applyMember(member('p3', 'alive'));
    const back = ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }, { epoch: 3 });
    view.applyRing(back);
    const share = pct(back.peers.find((p) => p.id === 'p3')!.ownership);
    expect(texts(view)).toEqual(['p3 dead', 'p3 restarted', `p3 joined: ${share}% of the ring moves to p3`]);
  });

  it('a restart seen by the ring event before the member event', () => {
    const view = new ClusterView();
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'dead' })); // known dead from the first snapshot
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }, { epoch: 2 }));
    view.applyMember(member('p3', 'alive'));
    expect(texts(view)).toEqual(['p3 restarted', expect.stringMatching(/^p3 joined: \d+\.\d% of the ring moves to p3$/)]);
  });

  it('a member event for a peer not in the ring adds a row', () => {
    const view = new ClusterView();
    view.applyRing(ringOf({ p1: 'alive' }));
    view.applyMember(member('p5', 'alive'));
    expect(view.state.peers.map((p) => [p.id, p.ownership])).toEqual([
      ['p1', 1],
      ['p5', 0],
    ]);
  });
});

describe('ClusterView: stats polls', () => {
  const stats = (keys: number, requests: number, running = false) => ({ keys, coordinator: { requests }, rebalance: { running } });

  it('ops/s from the growth of coordinator.requests between two polls', () => {
    const view = new ClusterView();
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive' }));
    view.applyClusterStats({ p1: stats(10, 100), p2: stats(20, 0) }, 10_000);
    expect(view.state.peers.map((p) => [p.keys, p.opsPerSec])).toEqual([
      [10, undefined],
      [20, undefined],
    ]);
    expect(view.state.statsAt).toBe(10_000);
    view.applyClusterStats({ p1: stats(11, 150), p2: stats(20, 0) }, 10_500);
    expect(view.state.peers.map((p) => [p.keys, p.opsPerSec])).toEqual([
      [11, 100],
      [20, 0],
    ]);
    // A counter that goes down is a restart: no rate until the next poll.
    view.applyClusterStats({ p1: stats(0, 3), p2: stats(20, 40) }, 11_500);
    expect(view.state.peers.map((p) => p.opsPerSec)).toEqual([undefined, 40]);
    view.applyClusterStats({ p1: stats(0, 13), p2: stats(20, 40) }, 12_500);
    expect(view.state.peers.map((p) => p.opsPerSec)).toEqual([10, 0]);
  });

  it('a peer whose entry is an error is unreachable, its keys and rate unknown', () => {
    const view = new ClusterView();
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive' }));
    view.applyClusterStats({ p1: stats(10, 100), p2: stats(20, 0) }, 1000);
    view.applyClusterStats({ p1: stats(10, 110), p2: { error: { code: 'TIMEOUT', message: 'no reply' } } }, 2000);
    const [p1, p2] = view.state.peers;
    expect(p1).toMatchObject({ keys: 10, opsPerSec: 10 });
    expect(p1!.unreachable).toBeUndefined();
    expect(p2).toMatchObject({ id: 'p2', unreachable: true });
    expect(p2!.keys).toBeUndefined();
    expect(p2!.opsPerSec).toBeUndefined();
    view.applyClusterStats({ p1: stats(10, 120), p2: stats(21, 5) }, 3000);
    expect(view.state.peers[1]!.unreachable).toBeUndefined();
    expect(view.state.peers[1]!.keys).toBe(21);
  });

  it('reports a rebalance once no peer runs one: key growth per peer and the time since it was first seen', () => {
    const t = clock(50_000);
    const view = new ClusterView({ now: t.now });
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive' }));
    view.applyClusterStats({ p1: stats(3000, 0), p2: stats(2900, 0) }, 10_000);
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive', p3: 'alive' }, { epoch: 2 }));
    view.applyClusterStats({ p1: stats(2900, 0, true), p2: stats(2800, 0), p3: stats(400, 0) }, 11_000);
    view.applyClusterStats({ p1: stats(2500, 0), p2: stats(2700, 0, true), p3: stats(1500, 0) }, 12_000);
    expect(texts(view).filter((text) => text.startsWith('rebalance'))).toEqual([]);
    view.applyClusterStats({ p1: stats(2000, 0), p2: stats(2600, 0), p3: stats(2234, 0) }, 13_100);
    const done = view.state.events.filter((event) => event.text.startsWith('rebalance'));
    expect(done).toEqual([{ at: 13_100, level: 'info', text: 'rebalance to p3 done: 2,234 keys in 2.1 s' }]);
    // Over: the next quiet poll reports nothing more.
    view.applyClusterStats({ p1: stats(2000, 0), p2: stats(2600, 0), p3: stats(2234, 0) }, 14_000);
    expect(view.state.events.filter((event) => event.text.startsWith('rebalance'))).toHaveLength(1);
  });

  it('uses the connected peer\'s rebalance events when the polls never see it running', () => {
    const t = clock(20_000);
    const view = new ClusterView({ now: t.now });
    view.applyRing(ringOf({ p1: 'alive', p2: 'alive' }));
    view.applyClusterStats({ p1: stats(100, 0), p2: stats(100, 0) }, 20_000);
    t.set(20_200);
    view.applyRebalance({ peer: 'p1', phase: 'start' });
    t.set(20_500);
    view.applyRebalance({ peer: 'p1', phase: 'done', report: { sent: { p3: 40 }, entries: 40, dropped: 0, durationMs: 300, complete: true } });
    view.applyClusterStats({ p1: stats(100, 0), p2: stats(100, 0), p3: stats(40, 0) }, 21_000);
    expect(texts(view)).toEqual(['rebalance to p3 done: 40 keys in 0.3 s']);
  });

  it('a peer that did not answer before the rebalance has no baseline', () => {
    const view = new ClusterView();
    view.applyClusterStats({ p1: stats(100, 0), p2: { error: { code: 'TIMEOUT', message: 'x' } } }, 1000);
    view.applyClusterStats({ p1: stats(100, 0, true), p2: stats(120, 0) }, 2000);
    view.applyClusterStats({ p1: stats(90, 0), p2: stats(130, 0) }, 3000);
    expect(texts(view)).toEqual([]);
  });
});

describe('ClusterView: connection and the log', () => {
  it('logs connected, lost and reconnected, each once', () => {
    const t = clock();
    const view = new ClusterView({ now: t.now });
    view.setConnection('connected', 'ws://127.0.0.1:7000');
    view.setConnection('connected', 'ws://127.0.0.1:7000');
    view.setConnection('reconnecting');
    view.setConnection('reconnecting');
    view.setConnection('connected', 'ws://127.0.0.1:7001');
    view.setConnection('connected', 'ws://127.0.0.1:7002');
    expect(view.state.events.map(({ level, text }) => [level, text])).toEqual([
      ['info', 'connected to ws://127.0.0.1:7000'],
      ['warn', 'connection lost: reconnecting'],
      ['info', 'reconnected to ws://127.0.0.1:7001'],
      ['info', 'connected to ws://127.0.0.1:7002'],
    ]);
    expect(view.state.url).toBe('ws://127.0.0.1:7002');
    expect(view.state.connection).toBe('connected');
    view.setConnection('closed');
    expect(view.state.connection).toBe('closed');
  });

  it('keeps the last maxEvents events and counts them all', () => {
    const view = new ClusterView({ maxEvents: 3 });
    for (let i = 1; i <= 5; i++) view.applyMember(member(`p${i}`, 'dead'));
    expect(texts(view)).toEqual(['p3 dead', 'p4 dead', 'p5 dead']);
    expect(view.eventCount).toBe(5);
  });

  it('emits change on every input and hands out fresh state objects', () => {
    const view = new ClusterView();
    let changes = 0;
    view.on('change', () => changes++);
    view.applyRing(ringOf({ p1: 'alive' }));
    view.applyMember(member('p1', 'alive'));
    view.applyClusterStats({ p1: { keys: 1 } }, 1);
    view.applyRebalance({ peer: 'p1', phase: 'start' });
    view.setConnection('connected', 'ws://x:1');
    expect(changes).toBe(5);
    const state = view.state;
    state.peers.pop();
    state.strip.fill('zz');
    state.events.length = 0;
    expect(view.state.peers).toHaveLength(1);
    expect(view.state.strip.every((owner) => owner === 'p1')).toBe(true);
    expect(view.state.events).toHaveLength(1);
  });
});
