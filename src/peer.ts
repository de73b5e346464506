/**
 * A ringcache peer: one process's member of the cluster.
 *
 * Composition (see docs/architecture.md):
 * - an HTTP server whose WebSocket upgrades go to the client endpoint `/` ({@link ClientSession})
 *   or the peer endpoint `/peer` ({@link LinkManager}: the full mesh of peer links);
 * - the {@link MemberList} and SWIM {@link FailureDetector} with the {@link GossipQueue};
 * - the {@link HashRing} rebuilt from the ring members on every membership change;
 * - the {@link LocalStore}, the {@link Coordinator} (data path) and the {@link Rebalancer}.
 *
 * Lifecycle: {@link Peer.start} listens, joins through a bootstrap peer and resolves when the
 * peer is serving; {@link Peer.leave} is the graceful exit (announce `left`, hand every entry to
 * its new owners, close); {@link Peer.stop} is the hard stop that closes every socket and timer.
 */
import { EventEmitter } from 'eventemitter3';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { PeerConfig } from './config.js';
import { defaultPeerConfig, resolvePeerConfig } from './config.js';
import { CacheError, toCacheError } from './errors.js';
import { HybridLogicalClock } from './hlc.js';
import type { Logger } from './logger.js';
import { createLogger } from './logger.js';
import { FailureDetector } from './membership/failure-detector.js';
import { GossipQueue } from './membership/gossip-queue.js';
import type { MemberRecord } from './membership/member.js';
import { isInRing } from './membership/member.js';
import { MemberList } from './membership/member-list.js';
import type { PeerEvents } from './peer-events.js';
import type { PeerOpName } from './protocol/peer-frames.js';
import { parseOpBody } from './protocol/peer-frames.js';
import { Coordinator } from './replication/coordinator.js';
import { HintedHandoff } from './replication/hinted-handoff.js';
import type { RebalanceReport } from './replication/rebalancer.js';
import { Rebalancer } from './replication/rebalancer.js';
import { HashRing } from './ring/hash-ring.js';
import type { RingView } from './ring/ring-view.js';
import { describeRing } from './ring/ring-view.js';
import { EventLoopStallMonitor } from './event-loop-stalls.js';
import { RequestDeadlines } from './request-deadlines.js';
import type { ClientSessionHost, ClientTraffic } from './server/client-session.js';
import { ClientSession } from './server/client-session.js';
import { HandshakeQueue } from './server/handshake-queue.js';
import { TurnBudget } from './turn-budget.js';
import { LocalStore } from './store/local-store.js';
import { backoffDelayMs, LinkManager, PEER_PATH } from './transport/link-manager.js';
import type { PeerLink } from './transport/peer-link.js';

/** A client's upgrade request waiting for its handshake (see {@link HandshakeQueue}). */
interface PendingHandshake {
  req: http.IncomingMessage;
  socket: import('node:stream').Duplex;
  head: Buffer;
}

/** Options of {@link Peer.start} besides the config. */
export interface PeerStartOptions {
  /** Config the overrides apply to. Default: {@link defaultPeerConfig}. */
  base?: PeerConfig;
  /** Logger; default: a pino logger on stderr at `config.logLevel`. */
  logger?: Logger;
  /** Give up joining after this many ms (default: keep trying until stopped). */
  joinTimeoutMs?: number;
}

/** Membership updates piggybacked on one probe frame. */
const PIGGYBACK_MAX = 16;

/** Period of housekeeping (link targets after reaping, push-pull scheduling), in ms. */
const HOUSEKEEPING_MS = 1000;

/** A running peer. Create with {@link Peer.start}. */
export class Peer extends EventEmitter<PeerEvents> {
  readonly config: Readonly<PeerConfig>;
  readonly logger: Logger;
  readonly store: LocalStore;
  readonly clock: HybridLogicalClock;
  readonly startedAt = Date.now();
  /** When the peer was created on the monotonic clock (`performance.now()` ms), for its uptime. */
  private readonly startedAtMonotonic = performance.now();
  members!: MemberList;
  links!: LinkManager;
  coordinator!: Coordinator;
  rebalancer!: Rebalancer;
  hints!: HintedHandoff;
  private detector!: FailureDetector;
  private readonly gossip: GossipQueue;
  private ringState: HashRing;
  private epoch = 0;
  private readonly server: http.Server;
  private readonly clientWss: WebSocketServer;
  private readonly peerWss: WebSocketServer;
  private readonly clients = new Set<WebSocket>();
  private url = '';
  /** Peer links are accepted (set once wired, before the join: joining needs inbound links). */
  private acceptingPeers = false;
  /** Client sockets are accepted (set once joined). */
  private serving = false;
  private leaving = false;
  private stopped = false;
  private readonly pendingRestarts = new Set<string>();
  private housekeepingTimer: ReturnType<typeof setInterval> | undefined;
  /** The last push-pull, `performance.now()` ms (intervals here are on the monotonic clock: a wall-clock step back would stall them). */
  private lastPushPull = performance.now();
  private readonly stopController = new AbortController();
  /** Client frames and requests received, over all sessions (stats `clientTraffic`). */
  private readonly clientTraffic: ClientTraffic = { frames: 0, requests: 0, deferrals: 0 };
  /** Deadlines of client requests that did not complete synchronously. */
  private readonly clientDeadlines = new RequestDeadlines();
  /** What every client session gets from this peer. */
  private sessionHost!: ClientSessionHost;
  /** Event-loop delay since start (perf_hooks, 10 ms resolution sampling timer), reported in stats. */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  /** Work budget of one event-loop turn, shared by the client sessions and the peer links (set in wire()). */
  private turnBudget!: TurnBudget;
  /** Client handshakes waiting for a turn with budget left (see `handshake-queue.ts`; set in wire()). */
  private handshakes!: HandshakeQueue<PendingHandshake>;
  /** Stalls of the event loop and where their time went (own work, waiting for a CPU, blocked). */
  private readonly stalls = new EventLoopStallMonitor();

  private constructor(config: Readonly<PeerConfig>, logger: Logger) {
    super();
    this.loopDelay.enable();
    this.config = config;
    this.logger = logger;
    this.clock = new HybridLogicalClock(config.id);
    this.store = new LocalStore({ maxBytes: config.maxMemory, tombstoneTtlMs: config.tombstoneTtlMs, policy: config.eviction });
    this.gossip = new GossipQueue(config);
    this.ringState = new HashRing([config.id], { vnodes: config.vnodes, replicas: config.replicas });
    this.server = http.createServer((req, res) => this.onHttpRequest(req, res));
    this.clientWss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false });
    this.peerWss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  /**
   * Validates the config, listens, joins the cluster through `config.bootstrap` (if any) and
   * resolves once the peer serves clients.
   * @param overrides config fields to set (others keep `options.base` or the defaults)
   * @throws CacheError BAD_CONFIG for an invalid config; UNAVAILABLE when the port cannot be bound
   *   or the join times out (`options.joinTimeoutMs`)
   */
  static async start(overrides: Partial<PeerConfig> = {}, options: PeerStartOptions = {}): Promise<Peer> {
    const config = resolvePeerConfig(overrides, options.base ?? defaultPeerConfig());
    const logger = options.logger ?? createLogger(config.logLevel, { peer: config.id });
    const peer = new Peer(config, logger);
    try {
      await peer.listen();
      peer.wire();
      await peer.join(options.joinTimeoutMs);
      // From here on: startup (module compilation, the first ring) is not a stall of the service.
      peer.stalls.start();
      return peer;
    } catch (error) {
      await peer.stop();
      throw error;
    }
  }

  /** This peer's id. */
  get id(): string {
    return this.config.id;
  }

  /** The advertised URL (`ws://host:port`) other peers and clients use. */
  get advertisedUrl(): string {
    return this.url;
  }

  /** The TCP port the peer listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The current ring. */
  get ring(): HashRing {
    return this.ringState;
  }

  /** The ring as clients see it. */
  ringView(): RingView {
    return describeRing(this.ringState, this.members.all(), this.epoch, this.id);
  }

  /** Local counters: keys, bytes, evictions, expirations, data-path and rebalance totals, members. */
  stats(): Record<string, unknown> {
    const states = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of this.members.all()) states[m.state]++;
    return {
      id: this.id,
      url: this.url,
      uptimeMs: Math.round(performance.now() - this.startedAtMonotonic),
      store: this.store.stats(),
      keys: this.store.liveCount,
      coordinator: { ...this.coordinator.stats },
      rebalance: { ...this.rebalancer.totals, running: this.rebalancer.running },
      hints: { ...this.hints.totals, pending: this.hints.size },
      members: states,
      ring: { epoch: this.epoch, checksum: this.ringState.checksum, size: this.ringState.size },
      links: this.links.connectedIds().length,
      clients: this.clients.size,
      clientTraffic: { ...this.clientTraffic, deferredHandshakes: this.handshakes.deferred },
      process: processFigures(this.loopDelay, this.stalls),
    };
  }

  /**
   * Stats of every ring member: this peer's own, the others' over their links (peer op `stats`,
   * deadline `peerRequestTimeoutMs`). A member that cannot answer maps to `{error: {code, message}}`.
   */
  async clusterStats(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    await Promise.all(
      this.members.ringMembers().map(async (id) => {
        if (id === this.id) {
          out[id] = this.stats();
          return;
        }
        const link = this.links.get(id);
        try {
          if (!link) throw new CacheError('UNAVAILABLE', `no link to peer ${id}`);
          out[id] = await link.request('stats', {}, this.config.peerRequestTimeoutMs);
        } catch (error) {
          out[id] = { error: toCacheError(error).toWire() };
        }
      }),
    );
    return out;
  }

  /**
   * Graceful leave: marks this peer `left` and tells every peer at once, hands every local entry
   * to the peers that own it without this one (within `leaveTimeoutMs`), then stops.
   * @returns the handoff report
   */
  async leave(): Promise<RebalanceReport | undefined> {
    if (this.stopped || this.leaving) return undefined;
    this.leaving = true;
    this.detector.stop();
    const record = this.members.leave();
    if (record) this.links.broadcastGossip([record]);
    const without = new HashRing(
      this.members.ringMembers().filter((id) => id !== this.id),
      { vnodes: this.config.vnodes, replicas: this.config.replicas },
    );
    let report: RebalanceReport | undefined;
    if (without.size > 0 && this.store.size > 0) {
      let watcher: ReturnType<typeof setInterval> | undefined;
      const deadline = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), this.config.leaveTimeoutMs).unref());
      // When every other member leaves or dies too (a whole cluster stopped at once), nobody can
      // take the entries: stop waiting instead of sitting out the whole deadline.
      const nobodyLeft = new Promise<undefined>((resolve) => {
        watcher = setInterval(() => {
          if (!this.members.ringMembers().some((id) => id !== this.id && this.members.get(id)?.state === 'alive')) resolve(undefined);
        }, 100);
      });
      try {
        report = await Promise.race([this.rebalancer.handoffAll(without), deadline, nobodyLeft]);
      } finally {
        clearInterval(watcher);
      }
      if (!report) this.logger.warn({ timeoutMs: this.config.leaveTimeoutMs }, 'handoff did not finish: the leave deadline passed, or no alive member is left to take the entries');
      else this.logger.info({ entries: report.entries, durationMs: report.durationMs, complete: report.complete }, 'handed off entries before leaving');
    }
    await this.flushLinks();
    await this.stop();
    return report;
  }

  /** Hard stop: closes every socket, server and timer this peer owns. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.acceptingPeers = false;
    this.serving = false;
    this.stopController.abort();
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    this.loopDelay.disable();
    this.stalls.close();
    this.clientDeadlines.clear();
    this.detector?.stop();
    await this.rebalancer?.stop();
    this.store.stopExpirySweeper();
    this.links?.stop();
    for (const client of this.clients) client.terminate();
    this.clients.clear();
    for (const handshake of this.handshakes?.clear() ?? []) handshake.socket.destroy();
    this.clientWss.close();
    this.peerWss.close();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => reject(new CacheError('UNAVAILABLE', `cannot listen on ${this.config.host}:${this.config.port}: ${error.code ?? error.message}`, { cause: error }));
      this.server.once('error', onError);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.server.on('error', (error) => this.logger.error({ err: error }, 'server error'));
    this.url = this.config.advertise ?? `ws://${urlHost(this.config.host)}:${this.port}`;
  }

  private wire(): void {
    const self: MemberRecord = { id: this.id, url: this.url, state: 'alive', incarnation: 0, generation: this.startedAt };
    this.members = new MemberList(self, { retentionMs: this.config.deadMemberRetentionMs });
    this.turnBudget = new TurnBudget(this.config.turnBudgetMs);
    this.handshakes = new HandshakeQueue<PendingHandshake>(
      this.turnBudget,
      (handshake) => this.acceptClient(handshake),
      (handshake) => handshake.socket.destroyed || !handshake.socket.writable,
    );
    this.links = new LinkManager(
      {
        self: () => this.members.self,
        members: () => this.members.all(),
        placement: { vnodes: this.config.vnodes, replicas: this.config.replicas },
        onHandshake: (from, list) => {
          this.members.apply(from);
          for (const record of list) this.members.apply(record);
          return undefined;
        },
        handler: (op, body, link) => this.onPeerRequest(op, body, link.peerId),
        onGossip: (records) => {
          for (const record of records) this.members.apply(record);
        },
        piggyback: () => this.gossip.take(PIGGYBACK_MAX, this.members.size),
        turnBudget: this.turnBudget,
        logger: this.logger,
      },
      this.config,
    );
    const link = (id: string): PeerLink | undefined => this.links.get(id);
    this.hints = new HintedHandoff({ store: this.store, link, logger: this.logger }, this.config);
    this.coordinator = new Coordinator(
      { selfId: this.id, store: this.store, clock: this.clock, ring: () => this.ringState, link, memberState: (id) => this.members.get(id)?.state, hints: this.hints },
      this.config,
    );
    this.sessionHost = {
      limits: this.config,
      requestTimeoutMs: this.config.requestTimeoutMs,
      maxInFlight: this.config.maxInFlightPerClient,
      maxBatch: this.config.maxBatchRequests,
      turnBudget: this.turnBudget,
      deadlines: this.clientDeadlines,
      traffic: this.clientTraffic,
      coordinator: this.coordinator,
      events: this,
      selfId: this.id,
      ringView: () => this.ringView(),
      stats: () => this.stats(),
      clusterStats: () => this.clusterStats(),
    };
    this.rebalancer = new Rebalancer(
      { selfId: this.id, store: this.store, ring: () => this.ringState, isAlive: (id) => this.members.get(id)?.state === 'alive', awaitLink: (id, timeoutMs) => this.links.awaitLink(id, timeoutMs), logger: this.logger },
      this.config,
    );
    this.rebalancer.on('rebalance:start', (info) => this.emit('rebalance:start', info));
    this.rebalancer.on('rebalance:done', (report) => {
      this.logger.info({ entries: report.entries, sent: report.sent, dropped: report.dropped, durationMs: report.durationMs, complete: report.complete }, 'rebalance pass done');
      this.emit('rebalance:done', report);
    });
    this.detector = new FailureDetector(
      {
        members: this.members,
        gossip: this.gossip,
        probes: {
          ping: (target, timeoutMs) => this.ping(target, timeoutMs),
          pingReq: async (via, target, timeoutMs) => {
            const viaLink = this.links.get(via);
            if (!viaLink) return false;
            try {
              return (await viaLink.request('ping-req', { target }, timeoutMs)).ack === true;
            } catch {
              return false;
            }
          },
        },
      },
      this.config,
    );

    this.members.on('member:join', (change) => {
      if (change.previous && change.previous.generation < change.member.generation) this.pendingRestarts.add(change.member.id);
      this.logger.info({ member: change.member.id, url: change.member.url, restarted: this.pendingRestarts.has(change.member.id) }, 'member joined');
      this.emit('member:join', change);
    });
    this.members.on('member:alive', (change) => this.emit('member:alive', change));
    this.members.on('member:suspect', (change) => {
      this.logger.warn({ member: change.member.id, incarnation: change.member.incarnation }, 'member suspect');
      this.emit('member:suspect', change);
    });
    this.members.on('member:dead', (change) => {
      this.hints.drop(change.member.id);
      this.logger.warn({ member: change.member.id }, 'member dead');
      this.emit('member:dead', change);
    });
    this.members.on('member:leave', (change) => {
      this.hints.drop(change.member.id);
      this.logger.info({ member: change.member.id }, 'member left');
      this.emit('member:leave', change);
    });
    this.members.on('member:update', (change) => {
      this.links.broadcastGossip([change.member]);
      this.updateLinkTargets();
      this.recomputeRing();
      this.emit('member:update', change);
    });
    this.members.on('self:refute', (record) => {
      this.logger.warn({ incarnation: record.incarnation }, 'refuting a suspicion of this peer');
      this.links.broadcastGossip([record]);
    });
    this.links.on('link:down', (peerId, code, reason) => {
      this.logger.debug({ peer: peerId, code, reason }, 'link down');
      const state = this.members.get(peerId)?.state;
      if (!this.stopped && state && isInRing(state)) this.detector.probeNow(peerId);
    });
    this.links.on('link:up', (peerLink) => {
      this.logger.debug({ peer: peerLink.peerId }, 'link up');
      void this.hints.deliver(peerLink.peerId);
    });
    this.store.startExpirySweeper({ intervalMs: this.config.expirySweepIntervalMs, budgetMs: this.config.expirySweepBudgetMs });
    this.acceptingPeers = true;
  }

  private async join(joinTimeoutMs?: number): Promise<void> {
    const bootstrap = this.config.bootstrap;
    const started = performance.now();
    for (let attempt = 0; bootstrap.length > 0; attempt++) {
      if (this.stopped) throw new CacheError('UNAVAILABLE', 'peer stopped while joining');
      let joined = false;
      for (const url of bootstrap) {
        try {
          await this.links.dial(url);
          joined = true;
          break;
        } catch (error) {
          this.logger.warn({ bootstrap: url, err: (error as Error).message }, 'bootstrap peer unreachable');
        }
      }
      if (joined) break;
      if (joinTimeoutMs !== undefined && performance.now() - started > joinTimeoutMs) {
        throw new CacheError('UNAVAILABLE', `could not join through ${bootstrap.join(', ')} within ${joinTimeoutMs} ms`);
      }
      const delay = Math.max(50, backoffDelayMs(attempt, this.config.reconnectBaseMs * 5, this.config.reconnectMaxMs));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    this.updateLinkTargets();
    this.recomputeRing();
    await this.awaitMesh(Math.min(2000, this.config.handshakeTimeoutMs));
    this.detector.start();
    this.housekeepingTimer = setInterval(() => this.housekeeping(), HOUSEKEEPING_MS);
    this.housekeepingTimer.unref();
    this.serving = true;
    this.logger.info({ url: this.url, members: this.members.ringMembers().length }, 'peer ready');
  }

  /** Waits (best effort, bounded) until links to every alive member are up. */
  private async awaitMesh(deadlineMs: number): Promise<void> {
    const until = performance.now() + deadlineMs;
    while (performance.now() < until && !this.stopped) {
      const missing = this.members.all().filter((m) => m.id !== this.id && m.state === 'alive' && !this.links.get(m.id));
      if (missing.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private housekeeping(): void {
    if (this.stopped || this.leaving) return;
    this.updateLinkTargets();
    for (const peerId of this.hints.peers()) if (this.links.get(peerId)) void this.hints.deliver(peerId);
    const now = performance.now();
    if (now - this.lastPushPull >= this.config.pushPullIntervalMs) {
      this.lastPushPull = now;
      void this.pushPull();
    }
  }

  /** Full member-list exchange with one random linked peer (anti-entropy for membership). */
  private async pushPull(): Promise<void> {
    const linked = this.links.all();
    if (linked.length === 0) return;
    const link = linked[Math.floor(Math.random() * linked.length)]!;
    try {
      const reply = await link.request('push-pull', { members: this.members.all() }, this.config.peerRequestTimeoutMs);
      for (const record of reply.members) this.members.apply(record);
    } catch {
      // The next round picks another peer; the failure detector judges the link.
    }
  }

  private updateLinkTargets(): void {
    if (this.stopped) return;
    this.links.setTargets(
      this.members
        .all()
        .map((m) => ({ id: m.id, url: m.url, mode: m.state === 'dead' ? 'slow' : m.state === 'left' ? 'keep' : 'connect' }) as const),
    );
  }

  private recomputeRing(): void {
    const next = new HashRing(this.members.ringMembers(), { vnodes: this.config.vnodes, replicas: this.config.replicas });
    const previous = this.ringState;
    const restarted = [...this.pendingRestarts];
    this.pendingRestarts.clear();
    if (next.checksum !== previous.checksum) {
      this.ringState = next;
      this.epoch++;
      this.logger.info({ epoch: this.epoch, checksum: next.checksum, peers: next.peers }, 'ring changed');
      this.emit('ring:change', this.ringView());
    } else if (restarted.length === 0) {
      return;
    }
    if (!this.leaving) this.rebalancer.onRingChange(previous, restarted);
  }

  private async ping(target: string, timeoutMs: number): Promise<boolean> {
    const link = this.links.get(target);
    if (!link) return false;
    try {
      await link.request('ping', {}, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Answers a peer request: synchronously when it can (a forwarded hit, replication), else a promise. */
  private onPeerRequest(op: PeerOpName, rawBody: unknown, senderId: string): unknown {
    const body = parseOpBody(op, rawBody);
    if (body === undefined) throw new CacheError('BAD_REQUEST', `malformed ${op} request`);
    switch (op) {
      case 'ping':
        return {};
      case 'ping-req': {
        const { target } = body as { target: string };
        return this.ping(target, this.config.probeTimeoutMs).then((ack) => ({ ack }));
      }
      case 'ops':
        return this.coordinator.handleForwardedBatch((body as { ops: unknown[] }).ops, senderId);
      case 'replicate':
      case 'handoff':
        return { applied: this.coordinator.applyEntries((body as { entries: Parameters<Coordinator['applyEntries']>[0] }).entries) };
      case 'read':
        return { entries: this.coordinator.readLocal((body as { keys: string[] }).keys) };
      case 'push-pull': {
        for (const record of (body as { members: MemberRecord[] }).members) this.members.apply(record);
        return { members: this.members.all() };
      }
      case 'stats':
        return this.stats();
    }
  }

  private onUpgrade(req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    const open = path === PEER_PATH ? this.acceptingPeers : this.serving;
    if (!open || this.stopped) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    if (path === PEER_PATH) {
      this.peerWss.handleUpgrade(req, socket, head, (ws) => this.links.accept(ws));
    } else if (path === '/' || path === '') {
      // Clients are served only once the peer joined (`serving`), after wire() made the queue.
      this.handshakes.offer({ req, socket, head });
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    }
  }

  /** Completes a client's WebSocket handshake and starts its session (unless the peer stopped meanwhile). */
  private acceptClient({ req, socket, head }: PendingHandshake): void {
    if (this.stopped || !this.serving) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    this.clientWss.handleUpgrade(req, socket, head, (ws) => {
      this.clients.add(ws);
      ws.on('close', () => this.clients.delete(ws));
      new ClientSession(ws, this.sessionHost, socket);
    });
  }

  private onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if ((req.url ?? '').split('?')[0] === '/health' && this.serving) {
      const body = JSON.stringify({ id: this.id, url: this.url, state: this.members.self.state, ring: { epoch: this.epoch, checksum: this.ringState.checksum, peers: this.ringState.peers } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end(`ringcache peer ${this.id}: connect a WebSocket client to ${this.url}/ (GET /health for status)\n`);
  }

  /** Waits (bounded) until queued frames have left the sockets, so the `left` gossip is sent. */
  private async flushLinks(): Promise<void> {
    const until = performance.now() + 500;
    while (performance.now() < until && this.links.all().some((l) => l.bufferedAmount > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Sampling interval of the event-loop delay histogram (ms). */
const LOOP_DELAY_RESOLUTION_MS = 10;

/**
 * Process-level figures for stats: CPU time (user/system, ms, since the process started), heap
 * and RSS (bytes), and event-loop delay since the peer started (ms: p50, p99, max). The delay is
 * measured by perf_hooks.monitorEventLoopDelay, whose samples are the intervals between ticks of
 * a {@link LOOP_DELAY_RESOLUTION_MS} timer; the sampling interval is subtracted, so an idle loop
 * reads about 0 and a stall of d ms reads about d. `stalls` splits the stalls into the main
 * thread's own work, waiting for a CPU and blocked time ({@link EventLoopStallMonitor}).
 */
function processFigures(loopDelay: IntervalHistogram, stalls: EventLoopStallMonitor): Record<string, unknown> {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e4 - LOOP_DELAY_RESOLUTION_MS * 100) / 100);
  return {
    cpuUserMs: Math.round(cpu.user / 1000),
    cpuSystemMs: Math.round(cpu.system / 1000),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    arrayBuffersBytes: memory.arrayBuffers,
    eventLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
    stalls: stalls.figures(),
  };
}
