/**
 * One client WebSocket on `ws://HOST:PORT/`: parses request frames, runs them (many in flight,
 * replies in completion order), and pushes `member`/`ring` events after `watch`.
 *
 * Bad input never crashes the peer: garbage bytes and invalid JSON get a `BAD_REQUEST` reply
 * with id null, unknown ops `UNKNOWN_OP`, oversized keys and values `TOO_LARGE`; a frame over
 * `maxFrameBytes` is refused by ws itself, which closes the socket with 1009. A client with more
 * than `maxInFlight` requests unanswered is not read until half of them are answered.
 */
import type WebSocket from 'ws';
import { CacheError, toCacheError } from '../errors.js';
import type { ClientRequest, RequestId, RequestLimits } from '../protocol/client-frames.js';
import { encodeErrorReply, encodeEvent, encodeGetHitReply, encodeOkReply, parseClientFrame } from '../protocol/client-frames.js';
import type { OpResult } from '../protocol/peer-frames.js';
import type { Coordinator } from '../replication/coordinator.js';
import type { PeerEventSource } from '../peer-events.js';
import type { RingView } from '../ring/ring-view.js';
import type { MemberChange } from '../membership/member-list.js';
import type { RebalanceReport } from '../replication/rebalancer.js';

/** Reading resumes only once less than this many reply bytes wait in the socket's buffer. */
const REPLY_BUFFER_HIGH_WATER = 8 * 1024 * 1024;

/** What a session needs from its peer. */
export interface ClientSessionHost {
  /** Id of the peer serving this session. */
  selfId: string;
  limits: RequestLimits;
  requestTimeoutMs: number;
  /** Requests in flight on one socket beyond which it is no longer read (PeerConfig.maxInFlightPerClient). */
  maxInFlight: number;
  coordinator: Coordinator;
  events: PeerEventSource;
  ringView(): RingView;
  stats(): Record<string, unknown>;
  /** Every ring member's stats, fetched over the peer links (`{error}` for a member that did not answer). */
  clusterStats(): Promise<Record<string, unknown>>;
}

/** Serves one client socket until it closes. */
export class ClientSession {
  private watching = false;
  /** Requests received and not yet answered. */
  private inFlight = 0;
  private readonly onMember = (change: MemberChange): void => {
    const { id, url, state, incarnation } = change.member;
    this.send(encodeEvent('member', { peer: { id, url, state, incarnation }, state }));
  };
  private readonly onRing = (ring: RingView): void => {
    this.send(encodeEvent('ring', { ring }));
  };
  private readonly onRebalanceStart = (): void => {
    this.send(encodeEvent('rebalance', { peer: this.host.selfId, phase: 'start' }));
  };
  private readonly onRebalanceDone = (report: RebalanceReport): void => {
    this.send(encodeEvent('rebalance', { peer: this.host.selfId, phase: 'done', report }));
  };

  constructor(
    private readonly socket: WebSocket,
    private readonly host: ClientSessionHost,
  ) {
    socket.on('message', (data, isBinary) => {
      const text = isBinary || typeof data !== 'string' ? data.toString() : data;
      this.inFlight++;
      // Backpressure: a client that pipelines without reading its replies stops being read
      // (TCP pushes back on it) instead of growing this peer's memory without bound.
      if (this.inFlight >= this.host.maxInFlight && !this.socket.isPaused) this.socket.pause();
      void this.handle(text).finally(() => this.settled());
    });
    socket.on('close', () => this.unwatch());
    socket.on('error', () => {
      // ws emits 'close' after 'error' (e.g. 1009 for an oversized frame); nothing else to do.
    });
  }

  private settled(): void {
    this.inFlight--;
    if (this.socket.isPaused && this.inFlight <= this.host.maxInFlight / 2 && this.socket.bufferedAmount < REPLY_BUFFER_HIGH_WATER) {
      this.socket.resume();
    }
  }

  private async handle(text: string): Promise<void> {
    const parsed = parseClientFrame(text, this.host.limits);
    if (!parsed.ok) {
      this.send(encodeErrorReply(parsed.id, parsed.error.toWire()));
      return;
    }
    const request = parsed.request;
    try {
      this.send(await this.withDeadline(request.id, this.run(request)));
    } catch (error) {
      this.send(encodeErrorReply(request.id, toCacheError(error).toWire()));
    }
  }

  private async run(request: ClientRequest): Promise<string> {
    const { coordinator } = this.host;
    switch (request.op) {
      case 'get': {
        const result = (await coordinator.execute(request)) as { found: boolean; value?: string };
        return result.found && result.value !== undefined ? encodeGetHitReply(request.id, result.value) : encodeOkReply(request.id, { found: false });
      }
      case 'set':
      case 'del':
      case 'expire':
      case 'ttl':
      case 'incr':
        return encodeOkReply(request.id, (await coordinator.execute(request)) as Exclude<OpResult, { found: boolean }>);
      case 'mget': {
        const results = await Promise.all(request.keys.map((key) => coordinator.execute({ op: 'get', key }) as Promise<{ found: boolean; value?: string }>));
        const values = results.map((r) => (r.found && r.value !== undefined ? `{"found":true,"value":${r.value}}` : '{"found":false}'));
        return `{"id":${JSON.stringify(request.id)},"ok":true,"values":[${values.join(',')}]}`;
      }
      case 'mset': {
        await Promise.all(request.entries.map((entry) => coordinator.execute({ op: 'set', key: entry.key, value: entry.value, ...(entry.ttl !== undefined ? { ttl: entry.ttl } : {}) })));
        return encodeOkReply(request.id, undefined);
      }
      case 'ring':
        return encodeOkReply(request.id, { ring: this.host.ringView() });
      case 'stats':
        return encodeOkReply(request.id, { stats: this.host.stats() });
      case 'cluster-stats':
        return encodeOkReply(request.id, { peers: await this.host.clusterStats() });
      case 'watch':
        this.watch();
        return encodeOkReply(request.id, undefined);
      case 'unwatch':
        this.unwatch();
        return encodeOkReply(request.id, undefined);
      case 'ping':
        return encodeOkReply(request.id, undefined);
    }
  }

  private withDeadline(id: RequestId, work: Promise<string>): Promise<string> {
    const timeoutMs = this.host.requestTimeoutMs;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CacheError('TIMEOUT', `request ${JSON.stringify(id)} did not complete within ${timeoutMs} ms`)), timeoutMs);
      work.then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.host.events.on('member:update', this.onMember);
    this.host.events.on('ring:change', this.onRing);
    this.host.events.on('rebalance:start', this.onRebalanceStart);
    this.host.events.on('rebalance:done', this.onRebalanceDone);
  }

  private unwatch(): void {
    if (!this.watching) return;
    this.watching = false;
    this.host.events.off('member:update', this.onMember);
    this.host.events.off('ring:change', this.onRing);
    this.host.events.off('rebalance:start', this.onRebalanceStart);
    this.host.events.off('rebalance:done', this.onRebalanceDone);
  }

  private send(text: string): void {
    if (this.socket.readyState === 1) this.socket.send(text);
  }
}
