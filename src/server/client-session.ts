/**
 * One client WebSocket on `ws://HOST:PORT/`: parses request frames, runs them (many in flight,
 * replies in completion order), and pushes `member`/`ring` events after `watch`.
 *
 * Bad input never crashes the peer: garbage bytes and invalid JSON get a `BAD_REQUEST` reply
 * with id null, unknown ops `UNKNOWN_OP`, oversized keys and values `TOO_LARGE`; a frame may be a
 * JSON array of requests (a batch, answered by one array of replies in order); a frame over
 * `maxFrameBytes` is refused by ws itself, which closes the socket with 1009. A client with more
 * than `maxInFlight` requests unanswered is not read until half of them are answered, and a socket
 * that delivered {@link REQUESTS_PER_TURN} requests in one event-loop turn is not read again before
 * the next turn.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { CacheError, toCacheError } from '../errors.js';
import type { ClientRequest, RequestId, RequestLimits } from '../protocol/client-frames.js';
import { decodeClientFrame, encodeErrorReply, readableId, encodeEvent, encodeGetHitReply, encodeOkReply, parseClientRequest } from '../protocol/client-frames.js';
import type { OpResult } from '../protocol/peer-frames.js';
import type { Coordinator } from '../replication/coordinator.js';
import type { PeerEventSource } from '../peer-events.js';
import type { RequestDeadlines } from '../request-deadlines.js';
import type { RingView } from '../ring/ring-view.js';
import type { MemberChange } from '../membership/member-list.js';
import type { RebalanceReport } from '../replication/rebalancer.js';

/**
 * Requests one socket may deliver per event-loop turn; beyond it the socket is paused until the
 * next turn (a fairness bound, not a limit on what a client may send).
 */
const REQUESTS_PER_TURN = 1024;

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
  /** Most requests in one batch frame (PeerConfig.maxBatchRequests). */
  maxBatch: number;
  /** Where the deadlines of requests that did not complete synchronously are kept. */
  deadlines: RequestDeadlines;
  /** Client frames and the requests in them, counted for every session of the peer. */
  traffic: ClientTraffic;
  coordinator: Coordinator;
  events: PeerEventSource;
  ringView(): RingView;
  stats(): Record<string, unknown>;
  /** Every ring member's stats, fetched over the peer links (`{error}` for a member that did not answer). */
  clusterStats(): Promise<Record<string, unknown>>;
}

/** Counters of client traffic, reported by the peer's `stats` as `clientTraffic`. */
export interface ClientTraffic {
  /** Client text frames received (a batch frame counts once). */
  frames: number;
  /** Requests received (each element of a batch frame counts). */
  requests: number;
}

type Reply = string | Promise<string>;

/**
 * Serves one client socket until it closes.
 *
 * Hot path: a request that completes synchronously (a local hit, a write with no replica) costs
 * no promise and no timer; only the others get a deadline. Replies written in the same tick
 * leave in one write: the TCP socket is corked from the first reply of a tick to the end of it.
 */
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

  private corked = false;
  /** Requests received in the current event-loop turn; reset by `nextTurn`. */
  private turnRequests = 0;
  /** Paused for the rest of the turn because of {@link REQUESTS_PER_TURN}. */
  private yielding = false;
  private readonly nextTurn = (): void => {
    this.turnRequests = 0;
    if (this.yielding) {
      this.yielding = false;
      this.maybeResume();
    }
  };
  private readonly uncork = (): void => {
    this.corked = false;
    this.raw?.uncork();
  };

  /**
   * @param socket the client's WebSocket
   * @param raw the TCP socket under it (from the HTTP upgrade), corked per tick; optional
   */
  constructor(
    private readonly socket: WebSocket,
    private readonly host: ClientSessionHost,
    private readonly raw?: Duplex,
  ) {
    socket.on('message', (data) => this.onFrame(data));
    socket.on('close', () => this.unwatch());
    socket.on('error', () => {
      // ws emits 'close' after 'error' (e.g. 1009 for an oversized frame); nothing else to do.
    });
  }

  private onFrame(data: WebSocket.RawData): void {
    const traffic = this.host.traffic;
    traffic.frames++;
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : data.toString();
    const decoded = decodeClientFrame(text, this.host.maxBatch);
    if (decoded.kind === 'error') {
      this.send(encodeErrorReply(null, decoded.error.toWire()));
      return;
    }
    if (decoded.kind === 'refused-batch') {
      const wire = decoded.error.toWire();
      this.send(`[${decoded.raws.map((raw) => encodeErrorReply(readableId(raw), wire)).join(',')}]`);
      return;
    }
    if (decoded.kind === 'single') {
      traffic.requests++;
      this.admit(1);
      const reply = this.answer(decoded.raw);
      if (typeof reply === 'string') {
        this.send(reply);
        this.settled(1);
      } else {
        void reply.then((replyText) => {
          this.send(replyText);
          this.settled(1);
        });
      }
      return;
    }
    // A batch frame: one reply frame, the replies in request order, once all are done.
    const raws = decoded.raws;
    const count = raws.length;
    traffic.requests += count;
    this.admit(count);
    const parts = new Array<string>(count);
    let pending = 0;
    const finish = (): void => {
      this.send(`[${parts.join(',')}]`);
      this.settled(count);
    };
    for (let i = 0; i < count; i++) {
      const reply = this.answer(raws[i]);
      if (typeof reply === 'string') {
        parts[i] = reply;
      } else {
        pending++;
        void reply.then((replyText) => {
          parts[i] = replyText;
          if (--pending === 0) finish();
        });
      }
    }
    if (pending === 0) finish();
  }

  /** Counts `count` new requests in flight; stops reading the socket at the limit. */
  /** Counts `count` new requests in flight; stops reading the socket at the limits. */
  private admit(count: number): void {
    this.inFlight += count;
    if (this.turnRequests === 0) setImmediate(this.nextTurn);
    this.turnRequests += count;
    if (this.socket.isPaused) return;
    // Backpressure: a client that pipelines without reading its replies stops being read
    // (TCP pushes back on it) instead of growing this peer's memory without bound.
    if (this.inFlight >= this.host.maxInFlight) {
      this.socket.pause();
    } else if (this.turnRequests >= REQUESTS_PER_TURN) {
      // Fairness: a client flooding pipelined requests is read again next turn, so one socket
      // cannot hold the event loop for a whole libuv read burst (measured: 229 ms for 100k
      // requests fired at once) while timers, probes and other sockets wait.
      this.yielding = true;
      this.socket.pause();
    }
  }

  private settled(count: number): void {
    this.inFlight -= count;
    this.maybeResume();
  }

  private maybeResume(): void {
    if (this.socket.isPaused && !this.yielding && this.inFlight <= this.host.maxInFlight / 2 && this.socket.bufferedAmount < REPLY_BUFFER_HIGH_WATER) {
      this.socket.resume();
    }
  }

  /** The reply text to one request: at once when it completed synchronously. The promise never rejects. */
  private answer(rawRequest: unknown): Reply {
    const parsed = parseClientRequest(rawRequest, this.host.limits);
    if (!parsed.ok) return encodeErrorReply(parsed.id, parsed.error.toWire());
    const request = parsed.request;
    let reply: Reply;
    try {
      reply = this.run(request);
    } catch (error) {
      return encodeErrorReply(request.id, toCacheError(error).toWire());
    }
    return typeof reply === 'string' ? reply : this.withDeadline(request.id, reply);
  }

  /** Runs one request; a plain string when it completed synchronously. May throw. */
  private run(request: ClientRequest): Reply {
    const { coordinator } = this.host;
    switch (request.op) {
      case 'get': {
        const result = coordinator.execute(request);
        return result instanceof Promise ? result.then((r) => encodeGetReply(request.id, r)) : encodeGetReply(request.id, result);
      }
      case 'set':
      case 'del':
      case 'expire':
      case 'ttl':
      case 'incr': {
        const result = coordinator.execute(request);
        return result instanceof Promise ? result.then((r) => encodeOkReply(request.id, r as ReplyResult)) : encodeOkReply(request.id, result as ReplyResult);
      }
      case 'mget':
        return this.mget(request.id, request.keys);
      case 'mset':
        return this.mset(request.id, request.entries);
      case 'ring':
        return encodeOkReply(request.id, { ring: this.host.ringView() });
      case 'stats':
        return encodeOkReply(request.id, { stats: this.host.stats() });
      case 'cluster-stats':
        return this.host.clusterStats().then((peers) => encodeOkReply(request.id, { peers }));
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

  private async mget(id: RequestId, keys: string[]): Promise<string> {
    const { coordinator } = this.host;
    const results = await Promise.all(keys.map((key) => coordinator.execute({ op: 'get', key }) as { found: boolean; value?: string } | Promise<{ found: boolean; value?: string }>));
    const values = results.map((r) => (r.found && r.value !== undefined ? `{"found":true,"value":${r.value}}` : '{"found":false}'));
    return `{"id":${JSON.stringify(id)},"ok":true,"values":[${values.join(',')}]}`;
  }

  private async mset(id: RequestId, entries: Extract<ClientRequest, { op: 'mset' }>['entries']): Promise<string> {
    const { coordinator } = this.host;
    await Promise.all(entries.map((entry) => coordinator.execute({ op: 'set', key: entry.key, value: entry.value, ...(entry.ttl !== undefined ? { ttl: entry.ttl } : {}) })));
    return encodeOkReply(id, undefined);
  }

  /** The reply text once `work` settles, or a TIMEOUT error reply after `requestTimeoutMs`. Never rejects. */
  private withDeadline(id: RequestId, work: Promise<string>): Promise<string> {
    const timeoutMs = this.host.requestTimeoutMs;
    return new Promise<string>((resolve) => {
      const deadline = this.host.deadlines.add(timeoutMs, () =>
        resolve(encodeErrorReply(id, new CacheError('TIMEOUT', `request ${JSON.stringify(id)} did not complete within ${timeoutMs} ms`).toWire())),
      );
      work.then(
        (reply) => {
          if (deadline.done) return;
          deadline.cancel();
          resolve(reply);
        },
        (error: unknown) => {
          if (deadline.done) return;
          deadline.cancel();
          resolve(encodeErrorReply(id, toCacheError(error).toWire()));
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
    if (this.socket.readyState !== 1) return;
    if (!this.corked && this.raw !== undefined) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(this.uncork);
    }
    this.socket.send(text);
  }
}

/** Result bodies of the ops other than get, as the reply carries them. */
type ReplyResult = Exclude<OpResult, { found: boolean }>;

function encodeGetReply(id: RequestId, result: OpResult): string {
  const r = result as { found: boolean; value?: string };
  return r.found && r.value !== undefined ? encodeGetHitReply(id, r.value) : `{"id":${JSON.stringify(id)},"ok":true,"found":false}`;
}
