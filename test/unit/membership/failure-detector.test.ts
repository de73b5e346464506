import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { suspicionTimeoutMs, testPeerConfig } from '../../../src/config.js';
import { FailureDetector, type FailureDetectorConfig, type ProbeTransport } from '../../../src/membership/failure-detector.js';
import { GossipQueue } from '../../../src/membership/gossip-queue.js';
import type { MemberRecord, MemberState } from '../../../src/membership/member.js';
import { MemberList } from '../../../src/membership/member-list.js';
import { mulberry32 as seeded } from '../../support/seeded-random.js';

const config: FailureDetectorConfig = (({ probeIntervalMs, probeTimeoutMs, indirectProbes, suspicionMult, suspicionMinMs, retransmitMult }) => ({
  probeIntervalMs,
  probeTimeoutMs,
  indirectProbes,
  suspicionMult,
  suspicionMinMs,
  retransmitMult,
}))(testPeerConfig());
const PERIOD = config.probeIntervalMs;

function rec(id: string, state: MemberState = 'alive', incarnation = 0): MemberRecord {
  return { id, url: `ws://${id}:7000`, state, incarnation, generation: 1 };
}


interface Call {
  kind: 'ping' | 'pingReq';
  via?: string;
  target: string;
  at: number;
}

/**
 * The probe seam over a simulated cluster: `down` members answer nothing, `brokenLinks` are pairs
 * of members whose direct link fails. An ack takes `latencyMs` per hop; a failure resolves false
 * at the caller's timeout (or at once when `latencyMs` is 0).
 */
class SimulatedProbes implements ProbeTransport {
  readonly down = new Set<string>();
  readonly brokenLinks = new Set<string>();
  readonly calls: Call[] = [];

  constructor(
    private readonly selfId: string,
    private readonly latencyMs: number,
  ) {}

  breakLink(a: string, b: string): void {
    this.brokenLinks.add([a, b].sort().join('|'));
  }

  ping(targetId: string, timeoutMs: number): Promise<boolean> {
    this.calls.push({ kind: 'ping', target: targetId, at: Date.now() });
    return this.reply(this.reachable(this.selfId, targetId), timeoutMs, this.latencyMs);
  }

  pingReq(viaId: string, targetId: string, timeoutMs: number): Promise<boolean> {
    this.calls.push({ kind: 'pingReq', via: viaId, target: targetId, at: Date.now() });
    const ok = this.reachable(this.selfId, viaId) && this.reachable(viaId, targetId);
    return this.reply(ok, timeoutMs, 2 * this.latencyMs);
  }

  pings(target: string): Call[] {
    return this.calls.filter((c) => c.kind === 'ping' && c.target === target);
  }

  private reachable(from: string, to: string): boolean {
    return !this.down.has(from) && !this.down.has(to) && !this.brokenLinks.has([from, to].sort().join('|'));
  }

  private reply(ok: boolean, timeoutMs: number, latencyMs: number): Promise<boolean> {
    if (this.latencyMs === 0) return Promise.resolve(ok);
    return new Promise((resolve) => setTimeout(() => resolve(ok), ok ? latencyMs : timeoutMs));
  }
}

interface Harness {
  members: MemberList;
  gossip: GossipQueue;
  probes: SimulatedProbes;
  detector: FailureDetector;
  events: Array<{ event: string; id: string; at: number }>;
  at(event: string, id: string): number | undefined;
}

let harness: Harness | undefined;

function cluster(size: number, options: { latencyMs?: number; probes?: ProbeTransport } = {}): Harness {
  const members = new MemberList(rec('self'), { retentionMs: 60_000 });
  for (let i = 1; i < size; i++) members.apply(rec(`p${i}`));
  const gossip = new GossipQueue(config);
  const simulated = new SimulatedProbes('self', options.latencyMs ?? 5);
  const detector = new FailureDetector({ members, probes: options.probes ?? simulated, gossip, random: seeded(42) }, config);
  const events: Harness['events'] = [];
  for (const event of ['member:suspect', 'member:dead', 'member:alive'] as const) {
    members.on(event, ({ member }) => events.push({ event, id: member.id, at: Date.now() }));
  }
  harness = {
    members,
    gossip,
    probes: simulated,
    detector,
    events,
    at: (event, id) => events.find((e) => e.event === event && e.id === id)?.at,
  };
  return harness;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  harness?.detector.stop();
  harness = undefined;
  vi.useRealTimers();
});

describe('FailureDetector', () => {
  it('sees no suspicion in a healthy cluster over 1,000 periods and probes everyone evenly', async () => {
    const { detector, probes, events } = cluster(5);
    detector.start();
    await vi.advanceTimersByTimeAsync(1000 * PERIOD);
    expect(events).toEqual([]);
    // Shuffled round robin: 1,000 periods over 4 other members is 250 full passes.
    for (const id of ['p1', 'p2', 'p3', 'p4']) expect(probes.pings(id)).toHaveLength(250);
    expect(probes.calls.filter((c) => c.kind === 'pingReq')).toEqual([]);
  });

  it('suspects a member that stops answering after one period and declares it dead after the suspicion timeout', async () => {
    const { detector, probes, members, gossip, at } = cluster(5);
    detector.start();
    await vi.advanceTimersByTimeAsync(3 * PERIOD);
    const stoppedAt = Date.now();
    probes.down.add('p2');
    await vi.advanceTimersByTimeAsync(5 * PERIOD);

    const firstProbe = probes.pings('p2').find((c) => c.at > stoppedAt)!;
    expect(firstProbe.at - stoppedAt).toBeLessThanOrEqual(4 * PERIOD);
    expect(at('member:suspect', 'p2')).toBe(firstProbe.at + PERIOD);
    // The direct probe failed, so the other three alive members were asked.
    const indirect = probes.calls.filter((c) => c.kind === 'pingReq' && c.target === 'p2');
    expect(indirect.map((c) => c.via).sort()).toEqual(['p1', 'p3', 'p4']);

    await vi.advanceTimersByTimeAsync(suspicionTimeoutMs(config, 5));
    expect(at('member:dead', 'p2')).toBe(firstProbe.at + PERIOD + suspicionTimeoutMs(config, 5));
    expect(members.get('p2')?.state).toBe('dead');
    expect(members.ringMembers()).toEqual(['p1', 'p3', 'p4', 'self']);
    expect(gossip.take(10, 5)).toContainEqual(rec('p2', 'dead'));
  });

  it('never suspects a member whose direct link fails but which answers indirect probes', async () => {
    const { detector, probes, events } = cluster(5);
    probes.breakLink('self', 'p2');
    probes.breakLink('p1', 'p2');
    detector.start();
    await vi.advanceTimersByTimeAsync(1000 * PERIOD);
    expect(events).toEqual([]);
    expect(probes.calls.filter((c) => c.kind === 'pingReq' && c.target === 'p2').length).toBeGreaterThanOrEqual(3 * 250);
  });

  it('cancels the suspicion timer when the suspect refutes', async () => {
    const { detector, probes, members, at } = cluster(4);
    detector.start();
    probes.down.add('p1');
    await vi.advanceTimersByTimeAsync(4 * PERIOD);
    expect(members.get('p1')?.state).toBe('suspect');
    const suspectedAt = at('member:suspect', 'p1')!;

    // p1 hears of its suspicion and refutes with a higher incarnation.
    probes.down.delete('p1');
    expect(members.apply(rec('p1', 'alive', 1))).toBe(true);
    await vi.advanceTimersByTimeAsync(3 * suspicionTimeoutMs(config, 4));
    expect(Date.now()).toBeGreaterThan(suspectedAt + suspicionTimeoutMs(config, 4));
    expect(members.get('p1')).toEqual(rec('p1', 'alive', 1));
    expect(at('member:dead', 'p1')).toBeUndefined();
  });

  it('declares dead a member suspected by gossip unless it refutes, even though it still answers probes', async () => {
    const { detector, members, at } = cluster(4);
    detector.start();
    members.apply(rec('p3', 'suspect'));
    const suspectedAt = Date.now();
    await vi.advanceTimersByTimeAsync(suspicionTimeoutMs(config, 4));
    expect(at('member:dead', 'p3')).toBe(suspectedAt + suspicionTimeoutMs(config, 4));
  });

  it('restarts the suspicion timer for a new suspicion at a higher incarnation', async () => {
    const { detector, members, at } = cluster(4);
    const timeout = suspicionTimeoutMs(config, 4);
    detector.start();
    members.apply(rec('p3', 'suspect', 0));
    await vi.advanceTimersByTimeAsync(timeout / 2);
    members.apply(rec('p3', 'suspect', 1));
    const resuspectedAt = Date.now();
    await vi.advanceTimersByTimeAsync(timeout);
    expect(at('member:dead', 'p3')).toBe(resuspectedAt + timeout);
    expect(members.get('p3')).toEqual(rec('p3', 'dead', 1));
  });

  it('a failed probe of a process that restarted meanwhile does not suspect the new process', async () => {
    const { detector, probes, members, events } = cluster(3);
    detector.start();
    probes.down.add('p1');
    expect(detector.probeNow('p1')).toBe(true);
    // p1 restarts (a new generation) after the direct and indirect probes of the old process
    // were sent, and before the probe's period ends
    await vi.advanceTimersByTimeAsync(config.probeTimeoutMs + 5);
    expect(probes.calls.some((c) => c.kind === 'pingReq' && c.target === 'p1')).toBe(true);
    members.apply({ ...rec('p1'), generation: 2 });
    await vi.advanceTimersByTimeAsync(PERIOD);
    probes.down.delete('p1');
    expect(events.filter((e) => e.id === 'p1' && e.event === 'member:suspect')).toEqual([]);
    expect(members.get('p1')).toMatchObject({ state: 'alive', generation: 2 });
  });

  it('probeNow() detects a dead member within probeTimeout + period + suspicion timeout', async () => {
    const { detector, probes, members, at } = cluster(10);
    detector.start();
    probes.down.add('p7');
    const droppedAt = Date.now();
    expect(detector.probeNow('p7')).toBe(true);
    expect(detector.probeNow('p7')).toBe(false); // already in flight
    expect(detector.probeNow('self')).toBe(false);
    expect(detector.probeNow('nobody')).toBe(false);
    const bound = config.probeTimeoutMs + PERIOD + suspicionTimeoutMs(config, 10);
    await vi.advanceTimersByTimeAsync(bound);
    expect(members.get('p7')?.state).toBe('dead');
    expect(at('member:dead', 'p7')! - droppedAt).toBeLessThanOrEqual(bound);
  });

  it('puts every accepted change and the self refutation on the gossip queue', async () => {
    const { detector, members, gossip } = cluster(3);
    detector.start();
    members.apply(rec('p9'));
    members.apply(rec('self', 'suspect', 0));
    const queued = gossip.take(10, 4);
    expect(queued).toContainEqual(rec('p9'));
    expect(queued).toContainEqual(rec('self', 'alive', 1));
  });

  it('inserts a new member into the round robin', async () => {
    const { detector, probes, members } = cluster(3);
    detector.start();
    await vi.advanceTimersByTimeAsync(3 * PERIOD);
    members.apply(rec('p9'));
    await vi.advanceTimersByTimeAsync(6 * PERIOD);
    expect(probes.pings('p9').length).toBeGreaterThanOrEqual(1);
  });

  it('counts a transport that throws or rejects as no ack', async () => {
    const probes: ProbeTransport = {
      ping: () => Promise.reject(new Error('link gone')),
      pingReq: () => {
        throw new Error('link gone');
      },
    };
    const { detector, members } = cluster(3, { probes });
    detector.start();
    // Each of the two others is probed once in the first two periods, and suspected a period later.
    await vi.advanceTimersByTimeAsync(PERIOD * 3);
    expect(members.get('p1')?.state).toBe('suspect');
    expect(members.get('p2')?.state).toBe('suspect');
  });

  it('stop() clears every timer, with probes in flight and suspicions pending', async () => {
    const { detector, probes, members } = cluster(4, { latencyMs: 0 });
    probes.down.add('p1');
    detector.start();
    await vi.advanceTimersByTimeAsync(4 * PERIOD + 1);
    expect(members.get('p1')?.state).toBe('suspect');
    expect(vi.getTimerCount()).toBeGreaterThan(1);
    detector.stop();
    expect(vi.getTimerCount()).toBe(0);
    detector.stop();
    expect(detector.isRunning).toBe(false);
  });

  it('ignores replies that arrive after stop()', async () => {
    const pending: Array<(acked: boolean) => void> = [];
    const probes: ProbeTransport = {
      ping: () => new Promise((resolve) => pending.push(resolve)),
      pingReq: () => new Promise((resolve) => pending.push(resolve)),
    };
    const { detector, members, events } = cluster(2, { probes });
    detector.start();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(pending).toHaveLength(1);
    detector.stop();
    for (const resolve of pending) resolve(false);
    await vi.advanceTimersByTimeAsync(10 * PERIOD);
    expect(events).toEqual([]);
    expect(members.get('p1')?.state).toBe('alive');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not start a second probe of a target still in flight', async () => {
    const pending: Array<(acked: boolean) => void> = [];
    const probes: ProbeTransport = {
      ping: () => new Promise((resolve) => pending.push(resolve)),
      pingReq: () => Promise.resolve(false),
    };
    const { detector } = cluster(2, { probes });
    detector.start();
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(pending).toHaveLength(1);
    expect(detector.probeNow('p1')).toBe(false);
  });
});
