/**
 * The SWIM failure detector: one probe per protocol period, indirect probes through other members
 * when the direct one fails, and suspicion timers that turn an unrefuted suspect into a dead member.
 *
 * Sources: SWIM (Das, Gupta & Motivala 2002) sections 3.1 (probe, ping-req), 4.2 (suspicion) and
 * 4.3 (round-robin probe target selection); hashicorp/memberlist `state.go` (`probe`,
 * `probeNode`, `resetNodes`, `kRandomNodes`) and `suspicion.go`; the timeout formula of Lifeguard
 * (Dadgar et al. 2018) through {@link suspicionTimeoutMs}. Lifeguard's local-health multiplier and
 * its timeout that shrinks with independent confirmations are not implemented: the suspicion
 * timeout is fixed at the formula's value.
 *
 * Transport-agnostic: probes go through a {@link ProbeTransport}, state through a {@link MemberList},
 * and accepted changes are put on a {@link GossipQueue} for piggybacking.
 */
import { suspicionTimeoutMs, type PeerConfig } from '../config.js';
import type { GossipQueue } from './gossip-queue.js';
import { isInRing, type MemberRecord } from './member.js';
import type { MemberChange, MemberList } from './member-list.js';

/**
 * The probe seam, implemented by the peer over its links (and by an in-memory fake in tests).
 * Both calls resolve `false` on any failure or timeout and never reject.
 */
export interface ProbeTransport {
  /** Direct probe: resolves true when `targetId` acks within `timeoutMs` ms. */
  ping(targetId: string, timeoutMs: number): Promise<boolean>;
  /**
   * Indirect probe (SWIM ping-req): asks `viaId` to ping `targetId`; resolves true when `viaId`
   * relays the target's ack within `timeoutMs` ms. The peer answers an incoming ping-req by
   * calling its own `ping`.
   */
  pingReq(viaId: string, targetId: string, timeoutMs: number): Promise<boolean>;
}

/** Dependencies of a {@link FailureDetector}, injectable for tests. */
export interface FailureDetectorComponents {
  members: MemberList;
  probes: ProbeTransport;
  gossip: GossipQueue;
  /** Uniform random number in [0, 1) for shuffles and helper choice. Default `Math.random`. */
  random?: () => number;
  /** Monotonic clock in ms, used to give indirect probes the rest of the period. Default `performance.now`. */
  now?: () => number;
}

/** The settings the failure detector reads; see {@link PeerConfig} for units and defaults. */
export type FailureDetectorConfig = Pick<
  PeerConfig,
  'probeIntervalMs' | 'probeTimeoutMs' | 'indirectProbes' | 'suspicionMult' | 'suspicionMinMs' | 'retransmitMult'
>;

type Timer = ReturnType<typeof setTimeout>;

interface Probe {
  target: string;
  /** The target's generation and incarnation when the probe started: a failed probe only
   *  suspects that same record, never a restarted process or a refutation that came meanwhile. */
  generation: number;
  incarnation: number;
  done: boolean;
  /** Fires at the end of the probe's period: no ack by then means suspect. */
  deadline: Timer;
}

interface Suspicion {
  timer: Timer;
  incarnation: number;
  generation: number;
}

/**
 * Probes one member per `probeIntervalMs` and declares failures. Lifecycle: {@link start} /
 * {@link stop}; {@link probeNow} for an out-of-band probe when a link drops.
 *
 * While started it also listens to the member list: every accepted change (`member:update`) and
 * every `self:refute` record is enqueued on the gossip queue; `member:suspect` starts a suspicion
 * timer; `member:alive`, `member:join`, `member:dead` and `member:leave` cancel it. Once per
 * period it calls `members.reap()` so dead and left members are forgotten after their retention.
 */
export class FailureDetector {
  private readonly members: MemberList;
  private readonly probes: ProbeTransport;
  private readonly gossip: GossipQueue;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly config: FailureDetectorConfig;

  private running = false;
  private tickTimer: Timer | undefined;
  private readonly inFlight = new Map<string, Probe>();
  private readonly suspicions = new Map<string, Suspicion>();
  /** Round-robin probe order over the other ring members (SWIM section 4.3). */
  private order: string[] = [];
  private index = 0;

  /**
   * @param components the member list, the probe transport, the gossip queue, optional random and clock
   * @param config probe period and timeout (ms), indirect probe count, suspicion multiplier and minimum (ms)
   */
  constructor(components: FailureDetectorComponents, config: FailureDetectorConfig) {
    this.members = components.members;
    this.probes = components.probes;
    this.gossip = components.gossip;
    this.random = components.random ?? Math.random;
    this.now = components.now ?? (() => performance.now());
    this.config = config;
  }

  /** True between {@link start} and {@link stop}. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Starts the probe loop (first probe one period from now) and the event wiring; members that
   * are already suspect get a suspicion timer. Idempotent.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.members.on('member:update', this.onUpdate);
    this.members.on('self:refute', this.onRefute);
    this.members.on('member:suspect', this.onSuspect);
    for (const event of ['member:alive', 'member:join', 'member:dead', 'member:leave'] as const) {
      this.members.on(event, this.onSettled);
    }
    const selfId = this.members.self.id;
    for (const member of this.members.all()) {
      if (member.id !== selfId && member.state === 'suspect') this.startSuspicion(member);
    }
    this.order = [];
    this.index = 0;
    this.scheduleTick();
  }

  /**
   * Stops probing: clears the period timer, every probe deadline and every suspicion timer, and
   * unsubscribes from the member list. Replies to probes still in flight are ignored. Idempotent.
   */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.members.off('member:update', this.onUpdate);
    this.members.off('self:refute', this.onRefute);
    this.members.off('member:suspect', this.onSuspect);
    for (const event of ['member:alive', 'member:join', 'member:dead', 'member:leave'] as const) {
      this.members.off(event, this.onSettled);
    }
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    for (const probe of this.inFlight.values()) {
      probe.done = true;
      clearTimeout(probe.deadline);
    }
    this.inFlight.clear();
    for (const suspicion of this.suspicions.values()) clearTimeout(suspicion.timer);
    this.suspicions.clear();
  }

  /**
   * Probes `targetId` now, out of turn: direct ping, then indirect probes, suspect at the end of
   * one period without an ack. Used when the link to that member drops, so a crashed process is
   * suspected within `probeIntervalMs` and dead `suspicionTimeoutMs` later.
   * Returns false (and does nothing) when stopped, when the target is self, unknown, not alive or
   * suspect, or already being probed.
   */
  probeNow(targetId: string): boolean {
    if (!this.running || !this.isProbeable(targetId) || this.inFlight.has(targetId)) return false;
    this.probe(targetId);
    return true;
  }

  private scheduleTick(): void {
    this.tickTimer = setTimeout(this.tick, this.config.probeIntervalMs);
  }

  private readonly tick = (): void => {
    this.tickTimer = undefined;
    const target = this.nextTarget();
    // The probe's deadline timer is created before the next tick's, so with equal delays the
    // previous probe settles before the next period picks a target.
    if (target !== undefined) this.probe(target);
    this.members.reap();
    this.scheduleTick();
  };

  /** Next target of the round robin, reshuffling after a full pass (memberlist `resetNodes`). */
  private nextTarget(): string | undefined {
    let reshuffled = false;
    for (;;) {
      if (this.index >= this.order.length) {
        if (reshuffled) return undefined;
        this.order = this.shuffle(this.otherRingMembers());
        this.index = 0;
        reshuffled = true;
        if (this.order.length === 0) return undefined;
      }
      const id = this.order[this.index++]!;
      if (this.isProbeable(id) && !this.inFlight.has(id)) return id;
    }
  }

  private probe(target: string): void {
    const { probeIntervalMs, probeTimeoutMs } = this.config;
    const record = this.members.get(target);
    const probe: Probe = {
      target,
      generation: record?.generation ?? -1,
      incarnation: record?.incarnation ?? -1,
      done: false,
      deadline: setTimeout(() => this.settle(probe, false), probeIntervalMs),
    };
    this.inFlight.set(target, probe);
    const startedAt = this.now();
    void this.call(() => this.probes.ping(target, probeTimeoutMs)).then((acked) => {
      if (probe.done) return;
      if (acked) return this.settle(probe, true);
      const remaining = Math.floor(probeIntervalMs - (this.now() - startedAt));
      if (remaining < 1) return;
      for (const via of this.indirectHelpers(target)) {
        void this.call(() => this.probes.pingReq(via, target, remaining)).then((relayed) => {
          if (relayed) this.settle(probe, true);
        });
      }
    });
  }

  /** Ends a probe once: an ack clears it, the deadline without one suspects the target. */
  private settle(probe: Probe, acked: boolean): void {
    if (probe.done) return;
    probe.done = true;
    clearTimeout(probe.deadline);
    if (this.inFlight.get(probe.target) === probe) this.inFlight.delete(probe.target);
    // The resulting member:update puts the suspect record on the gossip queue and
    // member:suspect starts its timer.
    if (acked || !this.running) return;
    const current = this.members.get(probe.target);
    if (current && current.generation === probe.generation && current.incarnation === probe.incarnation) this.members.suspect(probe.target);
  }

  /** Up to `indirectProbes` random alive members other than self and the target (memberlist `kRandomNodes`). */
  private indirectHelpers(target: string): string[] {
    const selfId = this.members.self.id;
    const candidates = this.members.all().filter((m) => m.state === 'alive' && m.id !== selfId && m.id !== target).map((m) => m.id);
    return this.shuffle(candidates).slice(0, Math.max(0, this.config.indirectProbes));
  }

  private startSuspicion(member: MemberRecord): void {
    this.cancelSuspicion(member.id);
    const timeout = suspicionTimeoutMs(this.config, this.members.ringMembers().length);
    const timer = setTimeout(() => {
      this.suspicions.delete(member.id);
      const current = this.members.get(member.id);
      // Declared dead only if nobody refuted in the meantime (same incarnation, same process).
      if (current?.state === 'suspect' && current.incarnation === member.incarnation && current.generation === member.generation) {
        this.members.markDead(member.id);
      }
    }, timeout);
    this.suspicions.set(member.id, { timer, incarnation: member.incarnation, generation: member.generation });
  }

  private cancelSuspicion(id: string): void {
    const suspicion = this.suspicions.get(id);
    if (suspicion === undefined) return;
    clearTimeout(suspicion.timer);
    this.suspicions.delete(id);
  }

  private readonly onUpdate = ({ member }: MemberChange): void => {
    this.gossip.enqueue(member);
  };

  private readonly onRefute = (self: MemberRecord): void => {
    this.gossip.enqueue(self);
  };

  private readonly onSuspect = ({ member }: MemberChange): void => {
    if (member.id !== this.members.self.id) this.startSuspicion(member);
  };

  private readonly onSettled = ({ member }: MemberChange): void => {
    this.cancelSuspicion(member.id);
    if (this.running && member.id !== this.members.self.id && isInRing(member.state) && !this.order.includes(member.id)) {
      // A newcomer takes a random place in the current pass, as memberlist swaps a new node
      // into a random position; inserting before the cursor leaves it for the next pass.
      const at = Math.floor(this.random() * (this.order.length + 1));
      this.order.splice(at, 0, member.id);
      if (at < this.index) this.index++;
    }
  };

  private isProbeable(id: string): boolean {
    if (id === this.members.self.id) return false;
    const member = this.members.get(id);
    return member !== undefined && isInRing(member.state);
  }

  private otherRingMembers(): string[] {
    const selfId = this.members.self.id;
    return this.members.ringMembers().filter((id) => id !== selfId);
  }

  /** Fisher-Yates shuffle of a copy, driven by the injected random source. */
  private shuffle(ids: string[]): string[] {
    const out = ids.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Guards the seam: a transport that throws or rejects counts as no ack. */
  private call(probe: () => Promise<boolean>): Promise<boolean> {
    try {
      return probe().then(
        (acked) => acked === true,
        () => false,
      );
    } catch {
      return Promise.resolve(false);
    }
  }
}
