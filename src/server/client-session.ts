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
 * the next turn. Requests run for at most `turnBudgetMs` per turn across the peer's sessions;
 * frames already read beyond that (and the rest of a long batch) wait for the next turn.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { CacheError, toCacheError } from '../errors.js';
import type { ClientRequest, RequestId, RequestLimits } from '../protocol/client-frames.js';
import { decodeClientFrame, encodeErrorReply, readableId, encodeEvent, encodeGetHitReply, encodeOkReply, parseClientRequest } from '../protocol/client-frames.js';
import type { OpResult } from '../protocol/peer-frames.js';
import type { Coordinator } from '../replication/coordinator.js';
import type { PeerEventSource } from '../peer-events.js';
import type { Deadline, RequestDeadlines } from '../request-deadlines.js';
import type { TurnBudget } from '../turn-budget.js';
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
  /** The time client requests may take per event-loop turn, and the end of the turn, shared by the peer's sessions and links. */
  turnBudget: TurnBudget;
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
  /** Times a frame, or the rest of a batch, waited for a later turn because the turn's budget ran out. */
  deferrals: number;
}

type Reply = string | Promise<string>;

/** A batch frame being run: its requests, the replies so far, the next request to run, replies still awaited. */
interface BatchInProgress {
  raws: unknown[];
  parts: string[];
  next: number;
  pending: number;
  /**
   * The batch's one deadline (`requestTimeoutMs`), armed when its first request goes
   * asynchronous: the requests of a batch share it instead of a deadline, a promise and four
   * closures each.
   */
  deadline: Deadline | undefined;
  /** True once the reply is sent (every request done, or the deadline passed): late parts are dropped. */
  done: boolean;
}

/** A batch checks the turn's budget before every this many requests (a power of two). */
const BATCH_BUDGET_CHECK_EVERY = 16;

/**
 * Serves one client socket until it closes.
 *
 * Hot path: a request that completes synchronously (a local hit, a write with no replica) costs
 * no promise and no timer; only the others get a deadline. Replies written in the same event-loop
 * turn leave in one write: the TCP socket is corked from the first reply of a turn to its end
 * ({@link TurnBudget.atTurnEnd}, one `setImmediate` for every socket of the peer), so the replies relayed from several peer-link messages of one turn share a
 * `writev` (measured on SETs through a non-owner: 0.19 instead of 0.25 `writev` per request).
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

  /** Frames read but not yet run (the turn's budget ran out), oldest first; a partly run batch goes first. */
  private readonly backlog: (string | BatchInProgress)[] = [];
  private drainScheduled = false;
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
   * @param raw the TCP socket under it (from the HTTP upgrade), corked per event-loop turn; optional
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
    this.host.traffic.frames++;
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : data.toString();
    // Frames already read when the turn's budget ran out (ws delivers a whole TCP read at once,
    // even to a paused socket) wait, in order, for the next turn.
    if (this.backlog.length > 0 || this.host.turnBudget.exhausted()) this.defer(text);
    else this.runFrame(text);
  }

  private runFrame(text: string): void {
    const traffic = this.host.traffic;
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
    traffic.requests += raws.length;
    this.admit(raws.length);
    this.continueBatch({ raws, parts: new Array<string>(raws.length), next: 0, pending: 0, deadline: undefined, done: false });
  }

  /**
   * Runs the requests of a batch from `batch.next` on; when the turn's budget runs out first, the
   * batch goes back to the front of the backlog and the rest runs next turn.
   */
  private continueBatch(batch: BatchInProgress): void {
    // Deferred, then answered by its deadline while it waited: nothing left to run.
    if (batch.done) return;
    const { raws, parts } = batch;
    const count = raws.length;
    const budget = this.host.turnBudget;
    let i = batch.next;
    for (; i < count; i++) {
      // The clock is read every BATCH_BUDGET_CHECK_EVERY requests.
      if (i > batch.next && (i & (BATCH_BUDGET_CHECK_EVERY - 1)) === 0 && budget.exhausted()) {
        batch.next = i;
        this.defer(batch, true);
        return;
      }
      const reply = this.answer(raws[i], false);
      if (typeof reply === 'string') {
        parts[i] = reply;
      } else {
        const index = i;
        batch.pending++;
        batch.deadline ??= this.host.deadlines.add(this.host.requestTimeoutMs, () => this.expireBatch(batch));
        reply.then(
          (replyText) => this.finishPart(batch, index, replyText),
          (error: unknown) => this.finishPart(batch, index, encodeErrorReply(readableId(raws[index]), toCacheError(error).toWire())),
        );
      }
    }
    batch.next = count;
    if (batch.pending === 0) this.finishBatch(batch);
  }

  private finishPart(batch: BatchInProgress, index: number, replyText: string): void {
    if (batch.done) return;
    batch.parts[index] = replyText;
    if (--batch.pending === 0 && batch.next === batch.raws.length) this.finishBatch(batch);
  }

  /** The batch's deadline passed: every request without a reply yet (started or not) gets TIMEOUT. */
  private expireBatch(batch: BatchInProgress): void {
    if (batch.done) return;
    const { raws, parts } = batch;
    for (let i = 0; i < raws.length; i++) if (parts[i] === undefined) parts[i] = this.timeoutReply(readableId(raws[i]));
    this.finishBatch(batch);
  }

  private finishBatch(batch: BatchInProgress): void {
    batch.done = true;
    batch.deadline?.cancel();
    this.send(`[${batch.parts.join(',')}]`);
    this.settled(batch.raws.length);
  }

  /** Puts a frame (or the rest of a batch, at the front) on the backlog; the socket is not read until it is empty. */
  private defer(item: string | BatchInProgress, first = false): void {
    this.host.traffic.deferrals++;
    if (first) this.backlog.unshift(item);
    else this.backlog.push(item);
    if (!this.socket.isPaused) this.socket.pause();
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Runs the backlog while the turn's budget lasts; what is left waits for the next turn. */
  private readonly drain = (): void => {
    this.drainScheduled = false;
    if (this.socket.readyState !== 1) {
      this.backlog.length = 0;
      return;
    }
    const budget = this.host.turnBudget;
    // The first item always runs (a frame, or a slice of a batch up to its next budget check), as
    // a peer link's drain does: the drains of a turn run in the order they were scheduled, so a
    // socket flooding batches, whose drain comes first and spends the budget every turn, would
    // otherwise hold another socket's deferred ping until the whole flood was answered.
    let ran = false;
    while (this.backlog.length > 0) {
      if (ran && budget.exhausted()) {
        if (!this.drainScheduled) {
          this.drainScheduled = true;
          setImmediate(this.drain);
        }
        return;
      }
      ran = true;
      const item = this.backlog.shift()!;
      if (typeof item === 'string') this.runFrame(item);
      else this.continueBatch(item);
    }
    this.maybeResume();
  };

  /** Counts `count` new requests in flight; stops reading the socket at the limits. */
  private admit(count: number): void {
    this.inFlight += count;
    if (this.turnRequests === 0) this.host.turnBudget.atTurnEnd(this.nextTurn);
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
    if (this.socket.isPaused && !this.yielding && this.backlog.length === 0 && this.inFlight <= this.host.maxInFlight / 2 && this.socket.bufferedAmount < REPLY_BUFFER_HIGH_WATER) {
      this.socket.resume();
    }
  }

  /**
   * The reply text to one request: at once when it completed synchronously.
   * @param timed true: the promise has the request's own deadline and never rejects; false (a
   *   batch's request, under the batch's deadline): the caller handles a rejection
   */
  private answer(rawRequest: unknown, timed = true): Reply {
    const parsed = parseClientRequest(rawRequest, this.host.limits);
    if (!parsed.ok) return encodeErrorReply(parsed.id, parsed.error.toWire());
    const request = parsed.request;
    let reply: Reply;
    try {
      reply = this.run(request);
    } catch (error) {
      return encodeErrorReply(request.id, toCacheError(error).toWire());
    }
    return typeof reply === 'string' || !timed ? reply : this.withDeadline(request.id, reply);
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
      const deadline = this.host.deadlines.add(timeoutMs, () => resolve(this.timeoutReply(id)));
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

  private timeoutReply(id: RequestId | null): string {
    return encodeErrorReply(id, new CacheError('TIMEOUT', `request ${JSON.stringify(id)} did not complete within ${this.host.requestTimeoutMs} ms`).toWire());
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
      this.host.turnBudget.atTurnEnd(this.uncork);
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
