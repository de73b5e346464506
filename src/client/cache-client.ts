/**
 * The ringcache client: WebSockets to the peers of the cluster, many requests in flight on each,
 * failover to the other peers when one drops.
 *
 * Wire contract (JSON text frames, see `docs/protocol.md`): a request is
 * `{"id": 7, "op": "get", "key": "k"}`; its reply echoes the id, `{"id": 7, "ok": true, ...}` or
 * `{"id": 7, "ok": false, "error": {"code", "message"}}`, in any order. After `watch`, frames
 * without an id are pushed: `{"event": "member", ...}` and `{"event": "ring", ...}`. A batch frame
 * is a JSON array of requests, answered by one JSON array of replies in the same order.
 *
 * Routing (`routing` option): with `'peer'` every request goes over one connection, to any peer,
 * which forwards key operations to their owners. With `'ring'` the client keeps a copy of the
 * ring ({@link ClientRing}) and sends each key operation to the key's primary over a connection
 * of its own, falling back to any connected peer (which forwards) when that connection is down.
 *
 * Batching (`batching` option): the requests issued in one event-loop turn for one socket are
 * written as one batch frame ({@link FrameBatcher}), as ioredis's auto-pipelining does.
 *
 * Habits taken from ioredis's cluster client: status changes go through one `setStatus()` that
 * emits; the peers' URLs and the ring are learnt from the peers (as ioredis learns the slot map)
 * and concurrent ring refreshes are merged into one; a failed connect names the last cause. From
 * libp2p: every call takes an `AbortSignal` and has a deadline.
 *
 * Failure semantics: a request written to a socket that drops is rejected with `UNAVAILABLE` at
 * once and never retried (it may or may not have been applied). A request not written yet moves
 * to another connection, or waits for the next one, up to its own deadline.
 */
import { EventEmitter } from 'eventemitter3';
import { CacheError, toCacheError, type ErrorCode } from '../errors.js';
import { isInRing, type MemberState } from '../membership/member.js';
import { RequestDeadlines, type Deadline } from '../request-deadlines.js';
import { ClientLink, type ClientLinkHandlers, type ClientLinkOptions, type LinkCloseInfo, type LinkedRequest } from './client-link.js';
import { ClientRing } from './client-ring.js';
import { MAX_BATCH_REQUESTS, flushScheduler, type FlushTiming } from './frame-batcher.js';
import { normalizeUrl, tryNormalizeUrl } from './peer-url.js';
import { frameText, resolveWebSocket, type WebSocketConstructor } from './websocket-factory.js';

/** Options of one call. */
export interface CallOptions {
  /** Deadline of this call in ms, waiting for a connection included. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Aborts the call: it rejects with `ABORTED` (a reply arriving later is ignored). */
  signal?: AbortSignal;
}

/** Options of {@link CacheClient.set}. */
export interface SetOptions extends CallOptions {
  /** Time to live in ms (a positive integer). Default: no expiry. */
  ttl?: number;
}

/** A lookup result: `{found: true, value}` or `{found: false}`. */
export interface Entry<T = unknown> {
  found: boolean;
  value?: T;
}

/** One entry of {@link CacheClient.mset}: `ttl` in ms. */
export interface MsetEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** A member as pushed by `member` events: `{id, url, state, incarnation}`. */
export interface PeerInfo {
  id: string;
  url: string;
  state: MemberState;
  incarnation: number;
}

/** A member in a ring snapshot; `ownership` is its fraction (0..1) of the hash space as primary. */
export interface RingPeer extends PeerInfo {
  ownership: number;
}

/** A ring snapshot as the answering peer sees it (`ring` replies and `ring` events). */
export interface RingInfo {
  /** The answering peer's ring version: a local counter, not comparable across peers. */
  epoch: number;
  /** Digest of the ring's membership and parameters: equal on peers that agree on the ring. */
  checksum: string;
  /** Copies of each key, the primary included. */
  replicas: number;
  /** Virtual nodes per peer. */
  vnodes: number;
  /** Id of the answering peer. */
  self: string;
  /** Every member the answering peer knows, suspect, dead and left ones included. */
  peers: RingPeer[];
}

/** The payload of a `member` event: the member and its new state. */
export interface MemberEvent {
  peer: PeerInfo;
  state: MemberState;
}

/** A successful reply frame, as received: `{id, ok: true, ...fields}`. */
export interface ReplyFrame {
  id: number | string;
  ok: true;
  [field: string]: unknown;
}

/**
 * The client's connection status:
 * `connecting` (never connected yet) -> `connected` <-> `reconnecting`, and `closed` from any.
 */
export type ClientStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The events of {@link CacheClient}. */
export interface CacheClientEvents {
  /** A socket opened to `url`; requests flow again. */
  connect: (info: { url: string }) => void;
  /** The open socket to `url` closed (`code` 1006 when the link was lost); the client reconnects unless closed. */
  disconnect: (info: { url: string; code: number; reason: string }) => void;
  /**
   * Something failed outside any call: a connect attempt (`UNAVAILABLE`, the cause in `cause`), an
   * unparseable frame (`INTERNAL`), a failed re-subscription to `watch`. Never fatal by itself.
   */
  error: (error: CacheError) => void;
  /** After {@link CacheClient.watch}: a member changed state. */
  member: (event: MemberEvent) => void;
  /** After {@link CacheClient.watch}: the ring changed. */
  ring: (ring: RingInfo) => void;
  /** Every status change, `from -> to`. */
  status: (change: { from: ClientStatus; to: ClientStatus }) => void;
  /** After {@link CacheClient.watch}: the connected peer started or finished a rebalance pass. */
  rebalance: (event: RebalanceEvent) => void;
}

/** Summary of a finished rebalance pass: entries sent per target peer, dropped, duration in ms. */
export interface RebalanceEventReport {
  sent: Record<string, number>;
  entries: number;
  dropped: number;
  durationMs: number;
  complete: boolean;
}

/** A `rebalance` watch event: `{peer, phase: 'start'|'done', report?}`. */
export interface RebalanceEvent {
  peer: string;
  phase: 'start' | 'done';
  report?: RebalanceEventReport;
}

/** Options of {@link CacheClient}. All durations in ms. */
export interface CacheClientOptions {
  /** Default deadline of a call, waiting for a connection included. Default 5000. */
  timeoutMs?: number;
  /** Deadline of one connection attempt (TCP + WebSocket handshake). Default: `timeoutMs`. */
  connectTimeoutMs?: number;
  /**
   * Reconnect delays are drawn uniformly from `[0, min(reconnectMaxMs, reconnectBaseMs * 2^n))`
   * where n counts the failed attempts since the last connection ("full jitter"). Default 100.
   */
  reconnectBaseMs?: number;
  /** Upper bound of a reconnect delay. Default 5000. */
  reconnectMaxMs?: number;
  /** WebSocket constructor to use. Default: the global `WebSocket`, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /**
   * Learn the other peers' URLs from `ring` replies and `member`/`ring` events, and fail over to
   * them when the connected peer goes away. When on, the client asks the peer for its ring after
   * every (re)connection. Default true.
   */
  discoverPeers?: boolean;
  /**
   * Where key operations (`get`, `set`, `del`, `expire`, `ttl`, `incr`, and `mget`/`mset` split
   * per primary) are sent. Default `'peer'`.
   * - `'peer'`: over the client's one connection, to whichever peer it is connected to; that peer
   *   forwards each key to its owner (one extra hop for most keys on a multi-peer cluster).
   * - `'ring'`: straight to the key's primary. The client keeps the ring (a `ring` request and a
   *   `watch` subscription on its failover connection, renewed after every reconnection; the
   *   `member` and `ring` events are still only emitted after {@link CacheClient.watch}), opens
   *   one more connection per primary it sends to (lazily, then reused), and sends a key through
   *   any connected peer, which forwards it, while that connection is down or not open within
   *   min(`connectTimeoutMs`, 1000) ms. A stale ring costs a forwarding hop, never a wrong answer.
   *   Other operations use the failover connection, as with `'peer'`.
   */
  routing?: 'peer' | 'ring';
  /**
   * Auto-pipelining: the requests issued in one event-loop turn for the same connection are
   * written as one batch frame (a JSON array of up to 1024 requests; a lone request stays a plain
   * frame) and their replies come back as one array. Calls behave exactly as unbatched ones (deadline,
   * signal, errors, per request); only the framing changes, and with it latency: the peer answers
   * a batch once all of it is done, so a slow request (a forward to a dead peer) holds back the
   * replies of the others in its batch. Needs peers that accept batch frames of 1024 requests
   * (protocol version 2, `maxBatchRequests` at its default; a peer set lower fails the calls of a
   * larger batch with TOO_LARGE). Default true. With `false` every call is a frame of its own;
   * in Node (`ws`) the frames of one turn still leave in one TCP write (the socket is corked until
   * the turn's flush), so the peers read them together.
   */
  batching?: boolean;
}

interface ResolvedOptions {
  timeoutMs: number;
  connectTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  WebSocket: WebSocketConstructor | undefined;
  discoverPeers: boolean;
  routing: 'peer' | 'ring';
  batching: boolean;
}

/** What a {@link PendingCall} needs of its client. */
interface RequestHooks {
  /** Forgets the settled request `id`; `link` is where it had been written (undefined: not written). */
  settled(id: number, link: ClientLink | undefined): void;
  /** The last connection error, the cause of an `UNAVAILABLE` for a request never written. */
  lastError(): CacheError | undefined;
}

/**
 * A call in flight, from its issue to its settlement: its frame and route, where it is queued or
 * written, its deadline and its promise's resolvers. One object per call, its methods shared (no
 * closure per call but {@link onDeadline}, and the abort listener when the call has a signal).
 */
class PendingCall implements LinkedRequest {
  link: ClientLink | undefined = undefined;
  sent = false;
  settled = false;
  /** The request's deadline in the client's deadline queues; set right after construction. */
  deadline: Deadline | undefined = undefined;
  private readonly onAbort: (() => void) | undefined;
  /** Settles the call with `TIMEOUT` (written) or `UNAVAILABLE` (never written): the deadline's callback. */
  readonly onDeadline = (): void => {
    this.settle(
      this.sent
        ? new CacheError('TIMEOUT', `${this.op}: no reply within ${this.timeoutMs} ms`)
        : new CacheError('UNAVAILABLE', `${this.op}: no connection to a peer within ${this.timeoutMs} ms`, { cause: this.hooks.lastError() }),
    );
  };

  /**
   * @param route the key whose primary should serve the request (`routing: 'ring'`); undefined: any peer
   * @param timeoutMs the call's deadline, ms (for the TIMEOUT message)
   * @param signal aborts the call (`ABORTED`) when it fires first
   */
  constructor(
    private readonly hooks: RequestHooks,
    readonly id: number,
    readonly op: string,
    readonly frame: string,
    readonly route: string | undefined,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (reply: ReplyFrame) => void,
    private readonly reject: (error: CacheError) => void,
  ) {
    if (signal !== undefined) {
      const onAbort = (): void => this.settle(abortedError(op, signal));
      this.onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  /** Rejects with `error`, or resolves with `reply`; the first settlement wins. */
  settle(error: CacheError | undefined, reply?: ReplyFrame): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline?.cancel();
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
    this.hooks.settled(this.id, this.sent ? this.link : undefined);
    if (error) this.reject(error);
    else this.resolve(reply!);
  }
}

/** A peer the client sends keys to directly (`routing: 'ring'`): its link and reconnect backoff. */
interface DirectPeer {
  link: ClientLink | undefined;
  /** Failed connection attempts since the last open; drives the backoff. */
  failures: number;
  /** No new attempt before this time (`performance.now()` ms): keys go through the failover connection meanwhile. */
  retryAt: number;
}

/** Told about every connection attempt: no error when it opened. */
type AttemptObserver = (error?: CacheError) => void;

/** setTimeout's largest delay; longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long {@link CacheClient.close} waits for the closing handshake before dropping the socket. */
const CLOSE_GRACE_MS = 1000;
/** Failures of `watch()` that keep the subscription wanted: the next connection subscribes again. */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNAVAILABLE', 'TIMEOUT']);
/** Longest wait for a direct connection to a primary before its keys go through another peer. */
const DIRECT_CONNECT_MAX_MS = 1000;
/** Operations on one `key`, routed to its primary with `routing: 'ring'`. */
const KEY_OPS: ReadonlySet<string> = new Set(['get', 'set', 'del', 'expire', 'ttl', 'incr']);
/**
 * When a batch is written: `setImmediate` in Node (a microtask in browsers). Measured with
 * C=50 clients x P=16 loops of `await get()` (requests per frame at the peers):
 * - one socket each, equal await depths: 16 for `immediate`, `tick` and `microtask` alike;
 * - one socket each, continuations taking 0-3 extra awaits (bare ws + Map server): 16 for `tick`,
 *   4.1 for `microtask` (2.4-3.3x fewer ops/s, 2x the server CPU per GET);
 * - `routing: 'ring'` over three peers (a client's loops spread over three sockets whose replies
 *   arrive apart): 4.2 for `immediate`, 2.5 for `tick`.
 * At C=1 P=1 the p50 of `immediate` and `tick` did not differ beyond the noise (90 vs 95 us,
 * medians of 6 runs on a loaded 2-core machine).
 */
const FLUSH_TIMING: FlushTiming = 'immediate';

/**
 * Delay before reconnect attempt number `failures` (0 after a dropped connection):
 * uniform in `[0, min(maxMs, baseMs * 2^failures))`, the "full jitter" backoff of
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
 * @param random a source in [0, 1), for tests
 */
export function reconnectDelayMs(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, failures), 30));
  return Math.floor(random() * ceiling);
}

/**
 * A client of a ringcache cluster. Connects at construction to the first URL, and on failure or
 * drop rotates through the known URLs (the given ones, then the discovered ones) with backoff.
 * With `routing: 'ring'` it also opens connections to the primaries of the keys it is asked for.
 *
 * Every call rejects with a {@link CacheError}: the peer's wire code for an error reply,
 * `TIMEOUT` when the deadline passed after the request was sent, `UNAVAILABLE` when the socket
 * dropped under it, no connection came up within the deadline, or the client is closed,
 * `ABORTED` when its signal fired, `BAD_REQUEST` for a non-string key or an unencodable value.
 *
 * @example
 * const client = await CacheClient.connect(['ws://127.0.0.1:7000', 'ws://127.0.0.1:7001'], { routing: 'ring' });
 * await client.set('greeting', { hello: 'world' }, { ttl: 60_000 });
 * const value = await client.get<{ hello: string }>('greeting');
 * await client.close();
 */
export class CacheClient extends EventEmitter<CacheClientEvents> {
  private readonly options: Readonly<ResolvedOptions>;
  private readonly linkOptions: Readonly<ClientLinkOptions>;
  private readonly directLinkOptions: Readonly<ClientLinkOptions>;
  private readonly seeds: readonly string[];
  private discovered = new Set<string>();
  /** Index (modulo the known URLs) of the next URL to try. */
  private cursor = 0;
  private state: ClientStatus = 'connecting';
  /** The failover connection: open, or being attempted. */
  private main: ClientLink | undefined;
  private connectedUrl: string | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Failed connection attempts since the last successful one; drives the backoff. */
  private failures = 0;
  private lastError: CacheError | undefined;
  private lastId = 0;
  private readonly pending = new Map<number, PendingCall>();
  /** The deadlines of the calls in flight: one timer per distinct timeout, not one per call. */
  private readonly deadlines = new RequestDeadlines({ keepAlive: true });
  private readonly requestHooks: RequestHooks = {
    settled: (id, link) => {
      this.pending.delete(id);
      if (link !== undefined) this.onLinkSettled(link);
    },
    lastError: () => this.lastError,
  };
  private readonly observers = new Set<AttemptObserver>();
  private wantWatch = false;
  private ringRefresh: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** The WebSocket class, once resolved by the first attempt. */
  private Ctor: WebSocketConstructor | undefined;
  /** `routing: 'ring'`: the ring keys are routed by, once learnt. */
  private clientRing: ClientRing | undefined;
  /** `routing: 'ring'`: the direct connections, by normalized peer URL. */
  private readonly direct = new Map<string, DirectPeer>();

  private readonly mainHandlers: ClientLinkHandlers = {
    open: (link) => this.onOpen(link),
    message: (link, data) => this.onMessage(link, data),
    close: (link, info) => {
      if (this.main === link) this.main = undefined;
      if (info.opened) this.onDrop(link, info);
      else this.onAttemptFailed(link.url, info.cause);
    },
  };

  private readonly directHandlers: ClientLinkHandlers = {
    open: (link) => this.onDirectOpen(link),
    message: (link, data) => this.onMessage(link, data),
    close: (link, info) => this.onDirectClose(link, info),
  };

  /**
   * @param urls one or more `ws://` / `wss://` URLs of peers; any live peer serves any key
   * @param options see {@link CacheClientOptions}
   * @throws CacheError BAD_CONFIG for no URL, a malformed URL, a non-positive duration or an
   *   unknown `routing`
   */
  constructor(urls: string | string[], options: CacheClientOptions = {}) {
    super();
    this.options = Object.freeze(resolveClientOptions(options));
    const list = (Array.isArray(urls) ? urls : [urls]).map((url) => normalizeUrl(url));
    if (list.length === 0) throw new CacheError('BAD_CONFIG', 'urls: at least one peer URL is required');
    this.seeds = Object.freeze([...new Set(list)]);
    const maxBatch = this.options.batching ? MAX_BATCH_REQUESTS : 1;
    const schedule = flushScheduler(FLUSH_TIMING);
    this.linkOptions = Object.freeze({ connectTimeoutMs: this.options.connectTimeoutMs, maxBatch, schedule });
    this.directLinkOptions = Object.freeze({ connectTimeoutMs: Math.min(this.options.connectTimeoutMs, DIRECT_CONNECT_MAX_MS), maxBatch, schedule });
    this.connectNext();
  }

  /**
   * Creates a client and waits for its first connection.
   * @returns the connected client
   * @throws CacheError BAD_CONFIG for bad arguments; UNAVAILABLE once every URL failed one attempt
   *   (`cause` holds the last attempt's error); the client is closed then.
   */
  static async connect(urls: string | string[], options?: CacheClientOptions): Promise<CacheClient> {
    const client = new CacheClient(urls, options);
    try {
      await client.waitForConnection();
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** The connection status (of the failover connection, with `routing: 'ring'`). */
  get status(): ClientStatus {
    return this.state;
  }

  /** The URL of the peer the failover connection is connected to, if any. */
  get url(): string | undefined {
    return this.connectedUrl;
  }

  /** Every URL the client may connect to: the given ones first, then the discovered ones. */
  get urls(): string[] {
    return [...this.seeds, ...this.discovered];
  }

  /**
   * The URLs of every open connection: the failover connection's first, then (with
   * `routing: 'ring'`) the direct ones to primaries.
   */
  get connectedUrls(): string[] {
    const urls = this.main?.isOpen ? [this.main.url] : [];
    for (const [url, peer] of this.direct) if (peer.link?.isOpen && !urls.includes(url)) urls.push(url);
    return urls;
  }

  /** Requests issued and not yet settled (queued ones included). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The routing mode, `'peer'` or `'ring'`. */
  get routing(): 'peer' | 'ring' {
    return this.options.routing;
  }

  /**
   * `routing: 'ring'`: the checksum of the ring the client routes by (8 hex chars, the peers'
   * `ring.checksum` when they agree), undefined before it learnt one and with `routing: 'peer'`.
   */
  get ringChecksum(): string | undefined {
    return this.clientRing?.checksum;
  }

  /**
   * Reads a key.
   * @returns the value, or `undefined` when the key is missing (use {@link getEntry} to tell a
   *   stored `null` from a missing key)
   */
  async get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    return toEntry<T>(await this.request('get', keyField(key), options, key), 'get').value;
  }

  /** Reads a key. @returns `{found: true, value}` or `{found: false}` */
  async getEntry<T = unknown>(key: string, options?: CallOptions): Promise<Entry<T>> {
    const reply = await this.request('get', keyField(key), options, key);
    return toEntry<T>(reply, 'get');
  }

  /**
   * Writes a key. `value` is any JSON value; `options.ttl` its time to live in ms.
   * @throws CacheError TOO_LARGE, OUT_OF_MEMORY, BAD_REQUEST from the peer
   */
  async set(key: string, value: unknown, options: SetOptions = {}): Promise<void> {
    const { ttl, ...callOptions } = options;
    let fields = keyField(key);
    try {
      // What JSON leaves out (undefined, a function) is left out of the frame, as JSON.stringify of an object does.
      const valueText: string | undefined = JSON.stringify(value);
      if (valueText !== undefined) fields += `,"value":${valueText}`;
      const ttlText: string | undefined = ttl === undefined ? undefined : JSON.stringify(ttl);
      if (ttlText !== undefined) fields += `,"ttl":${ttlText}`;
    } catch (error) {
      throw unencodable('set', error);
    }
    await this.request('set', fields, callOptions, key);
  }

  /** Deletes a key. @returns true when the key existed */
  async del(key: string, options?: CallOptions): Promise<boolean> {
    const reply = await this.request('del', keyField(key), options, key);
    return expectField(reply, 'deleted', 'boolean', 'del');
  }

  /** Sets a key's time to live, in ms. @returns true when the key exists (and was updated) */
  async expire(key: string, ttlMs: number, options?: CallOptions): Promise<boolean> {
    const reply = await this.call('expire', { key: checkKey(key), ttl: ttlMs }, options);
    return expectField(reply, 'updated', 'boolean', 'expire');
  }

  /** A key's remaining time to live in ms; -1 when it has no expiry, -2 when it is missing (Redis PTTL). */
  async ttl(key: string, options?: CallOptions): Promise<number> {
    const reply = await this.call('ttl', { key: checkKey(key) }, options);
    return expectField(reply, 'ttl', 'number', 'ttl');
  }

  /**
   * Adds `by` to an integer value (a missing key counts as 0).
   * @returns the new value
   * @throws CacheError NOT_A_NUMBER when the stored value is not an integer
   */
  async incr(key: string, by = 1, options?: CallOptions): Promise<number> {
    const reply = await this.call('incr', { key: checkKey(key), by }, options);
    return expectField(reply, 'value', 'number', 'incr');
  }

  /**
   * Reads many keys. With `routing: 'ring'` the keys are split into one `mget` per primary, sent
   * in parallel and reassembled in order; the call fails with the first sub-request's error.
   * @returns one `{found, value?}` per key, in order (no request for no keys)
   */
  async mget<T = unknown>(keys: string[], options?: CallOptions): Promise<Array<Entry<T>>> {
    if (!Array.isArray(keys)) throw new CacheError('BAD_REQUEST', 'mget: keys must be an array of strings');
    keys.forEach((key) => checkKey(key));
    if (keys.length === 0) return [];
    const groups = this.clientRing?.groupByPrimary(keys);
    if (!groups || groups.length === 1) return this.mgetGroup<T>(keys, options);
    const entries = new Array<Entry<T>>(keys.length);
    await Promise.all(
      groups.map(async ({ indices }) => {
        const values = await this.mgetGroup<T>(indices.map((index) => keys[index]!), options);
        indices.forEach((index, j) => (entries[index] = values[j]!));
      }),
    );
    return entries;
  }

  /**
   * Writes many keys; each entry's `ttl` in ms (no request for no entries). With
   * `routing: 'ring'` the entries are split into one `mset` per primary, sent in parallel; when
   * one fails the call rejects with its error, and the other groups may have been applied.
   */
  async mset(entries: MsetEntry[], options?: CallOptions): Promise<void> {
    if (!Array.isArray(entries)) throw new CacheError('BAD_REQUEST', 'mset: entries must be an array of {key, value, ttl?}');
    for (const entry of entries) checkKey(entry?.key);
    if (entries.length === 0) return;
    const groups = this.clientRing?.groupByPrimary(entries.map((entry) => entry.key));
    if (!groups || groups.length === 1) {
      await this.request('mset', { entries }, options, entries[0]!.key);
      return;
    }
    await Promise.all(
      groups.map(({ indices }) => {
        const group = indices.map((index) => entries[index]!);
        return this.request('mset', { entries: group }, options, group[0]!.key);
      }),
    );
  }

  /** The ring as the connected peer sees it. Feeds peer discovery and, with `routing: 'ring'`, routing. */
  async ring(options?: CallOptions): Promise<RingInfo> {
    const reply = await this.call('ring', {}, options);
    const ring = parseRing(reply.ring);
    if (!ring) throw malformed('ring');
    this.learnRing(ring);
    return ring;
  }

  /** The connected peer's counters (a free-form object). */
  async stats(options?: CallOptions): Promise<Record<string, unknown>> {
    const reply = await this.call('stats', {}, options);
    if (!isObject(reply.stats)) throw malformed('stats');
    return reply.stats;
  }

  /**
   * The stats of every ring member, gathered by the connected peer over its peer links:
   * `{[peerId]: stats}`, or `{[peerId]: {error: {code, message}}}` for a member that did not answer.
   */
  async clusterStats(options?: CallOptions): Promise<Record<string, Record<string, unknown>>> {
    const reply = await this.call('cluster-stats', {}, options);
    if (!isObject(reply.peers)) throw malformed('cluster-stats');
    return reply.peers as Record<string, Record<string, unknown>>;
  }

  /**
   * Subscribes to membership and ring changes: thereafter the client emits `member` and `ring`
   * events, and subscribes again on every reconnection until {@link unwatch}.
   */
  async watch(options?: CallOptions): Promise<void> {
    this.wantWatch = true;
    try {
      await this.call('watch', {}, options);
    } catch (error) {
      // A dropped link or a lost reply keeps the intent: the next connection subscribes again.
      if (!(error instanceof CacheError && TRANSIENT_CODES.has(error.code))) this.wantWatch = false;
      throw error;
    }
  }

  /**
   * Stops the `member` and `ring` events. With `routing: 'ring'` the subscription stays (the
   * client needs it for routing); only the events stop, and nothing is sent.
   */
  async unwatch(options?: CallOptions): Promise<void> {
    this.wantWatch = false;
    if (this.options.routing === 'ring') return;
    await this.call('unwatch', {}, options);
  }

  /**
   * Sends any request and returns the raw successful reply (`{id, ok: true, ...}`), for ops this
   * client has no method for and for tools that print replies verbatim. With `routing: 'ring'`
   * the single-key ops (`get`, `set`, `del`, `expire`, `ttl`, `incr`) go to the key's primary.
   * @param fields the request's fields besides `id` and `op`
   * @throws CacheError as every call does; the peer's code for an `ok: false` reply
   */
  call(op: string, fields: Record<string, unknown> = {}, options: CallOptions = {}): Promise<ReplyFrame> {
    const route = KEY_OPS.has(op) && typeof fields.key === 'string' ? fields.key : undefined;
    return this.request(op, fields, options, route);
  }

  /**
   * Closes the client: rejects every pending call with `UNAVAILABLE`, clears every timer, closes
   * every socket (waiting up to 1 s for the closing handshakes) and never reconnects. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    const url = this.connectedUrl;
    this.setStatus('closed');
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const error = new CacheError('UNAVAILABLE', 'the client is closed');
    for (const pending of [...this.pending.values()]) pending.settle(error);
    this.deadlines.clear();
    this.notifyAttempt(error);
    const links = [this.main, ...[...this.direct.values()].map((peer) => peer.link)].filter((link) => link !== undefined);
    this.main = undefined;
    this.direct.clear();
    this.connectedUrl = undefined;
    this.closing = Promise.all(links.map((link) => link.close(CLOSE_GRACE_MS))).then(() => {
      if (url !== undefined) this.emit('disconnect', { url, code: 1000, reason: 'client closed' });
    });
    return this.closing;
  }

  // --- requests ---------------------------------------------------------------------------

  /**
   * Issues one request.
   * @param op the operation; with `fields` a string, one of the client's own (written unescaped)
   * @param fields the request's fields besides `id` and `op`: an object, or already as JSON text
   *   (`,"name":value` for each, see {@link keyField}), which the hot single-key calls build by
   *   concatenation: a `get` frame costs about 150 ns that way against 530 ns through
   *   `JSON.stringify` of a merged object
   * @param route the key whose primary should serve it (`routing: 'ring'`), undefined for any peer
   */
  private request(op: string, fields: Record<string, unknown> | string, options: CallOptions = {}, route?: string): Promise<ReplyFrame> {
    return new Promise<ReplyFrame>((resolve, reject) => {
      if (this.state === 'closed') {
        reject(new CacheError('UNAVAILABLE', `${op}: the client is closed`));
        return;
      }
      const { signal } = options;
      if (signal?.aborted) {
        reject(abortedError(op, signal));
        return;
      }
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
      if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
        reject(new CacheError('BAD_REQUEST', `${op}: timeoutMs must be a positive number of ms, got ${String(timeoutMs)}`));
        return;
      }
      const id = ++this.lastId;
      let frame: string;
      try {
        frame = typeof fields === 'string' ? `{"id":${id},"op":"${op}"${fields}}` : JSON.stringify(Object.assign({ id, op }, fields, { id, op }));
      } catch (error) {
        reject(unencodable(op, error));
        return;
      }
      const pending = new PendingCall(this.requestHooks, id, op, frame, route, timeoutMs, signal, resolve, reject);
      this.pending.set(id, pending);
      pending.deadline = this.deadlines.add(Math.min(timeoutMs, MAX_TIMER_MS), pending.onDeadline);
      this.dispatch(pending);
    });
  }

  private async mgetGroup<T>(keys: string[], options: CallOptions | undefined): Promise<Array<Entry<T>>> {
    const reply = await this.request('mget', { keys }, options, keys[0]);
    if (!Array.isArray(reply.values) || reply.values.length !== keys.length) throw malformed('mget');
    return reply.values.map((item: unknown) => toEntry<T>(item, 'mget'));
  }

  /**
   * Picks the link of a request not written yet and queues it there. With no link (the failover
   * connection is down and, with `routing: 'ring'`, no other connection can take it) the request
   * waits for the failover connection to open.
   */
  private dispatch(pending: PendingCall): void {
    if (this.state === 'closed') return;
    const link = this.pickLink(pending.route);
    pending.link = link;
    // A direct link still connecting takes its requests when it opens.
    if (link?.isOpen) link.enqueue(pending);
  }

  /**
   * The link for a request routed by `route`: the key's primary when the ring is known and its
   * connection is open or connecting; else the failover connection when open; else (key
   * operations) any open direct connection, whose peer forwards; else none.
   */
  private pickLink(route: string | undefined): ClientLink | undefined {
    const main = this.main?.isOpen ? this.main : undefined;
    if (route === undefined || this.clientRing === undefined) return main;
    const url = this.clientRing.primaryUrl(route);
    if (url !== undefined) {
      if (main?.url === url) return main;
      const link = this.directLink(url);
      if (link) return link;
    }
    if (main) return main;
    for (const peer of this.direct.values()) if (peer.link?.isOpen && !peer.link.retiring) return peer.link;
    return undefined;
  }

  /** Called once per request written to `link` and then settled. */
  private onLinkSettled(link: ClientLink): void {
    link.inFlight--;
    if (link.retiring && link.inFlight === 0 && link !== this.main) this.closeDirect(link);
  }

  // --- connection -------------------------------------------------------------------------

  private setStatus(to: ClientStatus): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.emit('status', { from, to });
  }

  private connectNext(): void {
    if (this.state === 'closed') return;
    const urls = this.urls;
    const index = this.cursor % urls.length;
    this.cursor = index + 1;
    void this.attempt(urls[index]!);
  }

  private async attempt(url: string): Promise<void> {
    try {
      const Ctor = await resolveWebSocket(this.options.WebSocket);
      if (this.state === 'closed') return;
      this.Ctor = Ctor;
      this.main = new ClientLink(Ctor, url, this.linkOptions, this.mainHandlers);
    } catch (error) {
      this.onAttemptFailed(url, error);
    }
  }

  private onOpen(link: ClientLink): void {
    const url = link.url;
    this.failures = 0;
    this.lastError = undefined;
    this.connectedUrl = url;
    this.setStatus('connected');
    // A watch() issued while disconnected is still queued and subscribes by itself.
    const watchQueued = [...this.pending.values()].some((pending) => !pending.sent && pending.op === 'watch');
    if ((this.wantWatch || this.options.routing === 'ring') && !watchQueued) {
      this.call('watch', {}).catch((error: unknown) => {
        const cacheError = toCacheError(error);
        // A drop is followed by a reconnection that subscribes again; anything else is reported.
        if (cacheError.code !== 'UNAVAILABLE') this.emit('error', cacheError);
      });
    }
    for (const pending of this.pending.values()) if (!pending.sent && pending.link === undefined) this.dispatch(pending);
    this.notifyAttempt();
    if (this.state !== 'connected') return;
    this.emit('connect', { url });
    if ((this.options.discoverPeers || this.options.routing === 'ring') && this.state === 'connected') this.refreshRing();
  }

  private onDrop(link: ClientLink, info: LinkCloseInfo): void {
    const { url } = link;
    const { code, reason } = info;
    this.connectedUrl = undefined;
    this.failLink(link, code, reason);
    this.setStatus('reconnecting');
    this.emit('disconnect', { url, code, reason });
    this.scheduleReconnect();
  }

  /**
   * A link that was open is gone: its written requests are rejected with `UNAVAILABLE` (they may
   * or may not have been applied), its unwritten ones move to another link or wait.
   */
  private failLink(link: ClientLink, code: number, reason: string): void {
    // 1009: the peer refused a frame over its size limit; the offending request is among these.
    const detail = code === 1009 ? 'a frame exceeded the peer\'s size limit, ' : '';
    const error = new CacheError('UNAVAILABLE', `the connection to ${link.url} closed (${detail}${code}${reason ? ` ${reason}` : ''})`);
    for (const pending of [...this.pending.values()]) if (pending.sent && pending.link === link) pending.settle(error);
    this.moveUnsent(link);
  }

  /** Re-routes the requests waiting on `link` (queued, not written), in issue order. */
  private moveUnsent(link: ClientLink): void {
    for (const pending of [...this.pending.values()]) {
      if (pending.sent || pending.link !== link) continue;
      pending.link = undefined;
      this.dispatch(pending);
    }
  }

  private onAttemptFailed(url: string, cause: unknown): void {
    if (this.state === 'closed') return;
    this.failures += 1;
    this.lastError = new CacheError('UNAVAILABLE', `cannot connect to ${url}: ${errorMessage(cause)}`, { cause });
    this.notifyAttempt(this.lastError);
    this.emit('error', this.lastError);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'closed' || this.reconnectTimer !== undefined) return;
    const delay = reconnectDelayMs(this.failures, this.options.reconnectBaseMs, this.options.reconnectMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectNext();
    }, delay);
  }

  private notifyAttempt(error?: CacheError): void {
    for (const observer of [...this.observers]) observer(error);
  }

  /** Resolves on the next connection; rejects once every known URL failed an attempt, or on close. */
  private waitForConnection(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let failures = 0;
      const observer: AttemptObserver = (error) => {
        if (error === undefined) {
          this.observers.delete(observer);
          resolve();
          return;
        }
        failures += 1;
        if (this.state === 'closed' || failures >= this.urls.length) {
          this.observers.delete(observer);
          const message =
            this.state === 'closed'
              ? 'the client was closed before it connected'
              : `could not connect to any of ${this.urls.join(', ')} (last: ${error.message})`;
          reject(new CacheError('UNAVAILABLE', message, { cause: error }));
        }
      };
      this.observers.add(observer);
    });
  }

  // --- direct connections (routing: 'ring') -----------------------------------------------

  /**
   * The direct link to the peer at `url`: the existing one (open or connecting), else a new
   * attempt, unless the last one failed less than a backoff delay ago or the peer left the ring.
   */
  private directLink(url: string): ClientLink | undefined {
    let peer = this.direct.get(url);
    if (peer?.link) return peer.link.retiring ? undefined : peer.link;
    if (this.Ctor === undefined || this.state === 'closed') return undefined;
    if (peer && performance.now() < peer.retryAt) return undefined;
    if (!peer) {
      peer = { link: undefined, failures: 0, retryAt: 0 };
      this.direct.set(url, peer);
    }
    try {
      peer.link = new ClientLink(this.Ctor, url, this.directLinkOptions, this.directHandlers);
    } catch {
      peer.failures++;
      peer.retryAt = performance.now() + reconnectDelayMs(peer.failures, this.options.reconnectBaseMs, this.options.reconnectMaxMs);
      return undefined;
    }
    return peer.link;
  }

  private onDirectOpen(link: ClientLink): void {
    const peer = this.direct.get(link.url);
    if (peer?.link === link) peer.failures = 0;
    for (const pending of this.pending.values()) if (!pending.sent && pending.link === link) link.enqueue(pending);
  }

  private onDirectClose(link: ClientLink, info: LinkCloseInfo): void {
    const peer = this.direct.get(link.url);
    if (peer?.link === link) {
      peer.link = undefined;
      // A dropped connection is retried after a short delay, a failed attempt after a growing one.
      if (!info.opened) peer.failures++;
      peer.retryAt = performance.now() + reconnectDelayMs(peer.failures, this.options.reconnectBaseMs, this.options.reconnectMaxMs);
    }
    if (info.opened) this.failLink(link, info.code, info.reason);
    else this.moveUnsent(link);
    // The peer may be gone: learn the ring again (watch events tell as well; this is sooner).
    if (this.state === 'connected') this.refreshRing();
  }

  /** Closes a direct link the client no longer routes to; requests still queued on it move elsewhere. */
  private closeDirect(link: ClientLink): void {
    const peer = this.direct.get(link.url);
    if (peer?.link === link) this.direct.delete(link.url);
    void link.close(CLOSE_GRACE_MS);
    this.moveUnsent(link);
  }

  /**
   * Adopts a new routing ring. Direct links to peers no longer on it take no new requests and
   * close once their written requests are settled (at once when there are none).
   */
  private setRing(ring: ClientRing): void {
    this.clientRing = ring;
    const urls = ring.urls();
    for (const [url, peer] of [...this.direct]) {
      const link = peer.link;
      if (!link) {
        if (!urls.has(url)) this.direct.delete(url);
      } else if (urls.has(url)) {
        link.retiring = false;
      } else if (link.inFlight === 0) {
        this.closeDirect(link);
      } else {
        link.retiring = true;
      }
    }
  }

  // --- frames -----------------------------------------------------------------------------

  private onMessage(link: ClientLink, data: unknown): void {
    const text = frameText(data);
    let frame: unknown;
    try {
      frame = text === undefined ? undefined : JSON.parse(text);
    } catch {
      frame = undefined;
    }
    if (Array.isArray(frame)) {
      // The replies to a batch frame, one per request.
      for (const item of frame) this.onFrame(link, item);
      return;
    }
    this.onFrame(link, frame);
  }

  private onFrame(link: ClientLink, frame: unknown): void {
    if (!isObject(frame)) {
      this.emit('error', new CacheError('INTERNAL', `unparseable frame from ${link.url}`));
      return;
    }
    if (frame.id !== undefined && frame.id !== null) {
      const pending = this.pending.get(typeof frame.id === 'number' ? frame.id : Number(frame.id));
      // No pending entry: the call timed out or was aborted; its late reply is dropped.
      if (!pending?.sent || pending.link !== link) return;
      if (frame.ok === true) pending.settle(undefined, frame as ReplyFrame);
      else pending.settle(CacheError.fromWire(frame.error));
      return;
    }
    if (typeof frame.event === 'string') {
      this.onEvent(frame);
      return;
    }
    // An error the peer could not tie to a request (it could not read the id).
    if (frame.ok === false) this.emit('error', CacheError.fromWire(frame.error));
  }

  private onEvent(frame: Record<string, unknown>): void {
    // With routing 'ring' the client subscribes for itself; the caller sees events after watch() only.
    const emit = this.wantWatch || this.options.routing === 'peer';
    if (frame.event === 'member') {
      const event = parseMemberEvent(frame);
      if (!event) {
        this.emit('error', new CacheError('INTERNAL', 'malformed member event'));
        return;
      }
      this.learnMember(event);
      if (emit) this.emit('member', event);
    } else if (frame.event === 'ring') {
      const ring = parseRing(frame.ring);
      if (!ring) {
        this.emit('error', new CacheError('INTERNAL', 'malformed ring event'));
        return;
      }
      this.learnRing(ring);
      if (emit) this.emit('ring', ring);
    } else if (frame.event === 'rebalance') {
      if (typeof frame.peer !== 'string' || (frame.phase !== 'start' && frame.phase !== 'done')) {
        this.emit('error', new CacheError('INTERNAL', 'malformed rebalance event'));
        return;
      }
      if (emit) this.emit('rebalance', { peer: frame.peer, phase: frame.phase, report: isObject(frame.report) ? (frame.report as unknown as RebalanceEventReport) : undefined });
    }
    // Other events come from a newer peer; this client does not know them and skips them.
  }

  // --- peer discovery and the ring --------------------------------------------------------

  private refreshRing(): void {
    if (this.ringRefresh) return;
    // Best effort: a peer without `ring`, or a drop, leaves the known URLs as they are.
    this.ringRefresh = this.ring().then(
      () => undefined,
      () => undefined,
    );
    void this.ringRefresh.finally(() => {
      this.ringRefresh = undefined;
    });
  }

  private learnRing(ring: RingInfo): void {
    if (this.options.routing === 'ring') {
      try {
        this.setRing(ClientRing.fromSnapshot(ring));
      } catch (error) {
        this.emit('error', new CacheError('INTERNAL', `unusable ring from the peer: ${errorMessage(error)}`, { cause: error }));
      }
    }
    if (!this.options.discoverPeers) return;
    const next = new Set<string>();
    for (const peer of ring.peers) {
      if (!isInRing(peer.state)) continue;
      const url = tryNormalizeUrl(peer.url);
      if (url !== undefined && !this.seeds.includes(url)) next.add(url);
    }
    this.discovered = next;
  }

  private learnMember(event: MemberEvent): void {
    if (this.clientRing) {
      const next = this.clientRing.withMember(event.peer.id, event.peer.url, event.state);
      if (next) this.setRing(next);
    }
    if (!this.options.discoverPeers) return;
    const url = tryNormalizeUrl(event.peer.url);
    if (url === undefined || this.seeds.includes(url)) return;
    if (isInRing(event.state)) this.discovered.add(url);
    else this.discovered.delete(url);
  }
}

// --- helpers of this file -----------------------------------------------------------------

function resolveClientOptions(options: CacheClientOptions): ResolvedOptions {
  const timeoutMs = positiveMs('timeoutMs', options.timeoutMs, 5000);
  const resolved: ResolvedOptions = {
    timeoutMs,
    connectTimeoutMs: positiveMs('connectTimeoutMs', options.connectTimeoutMs, timeoutMs),
    reconnectBaseMs: positiveMs('reconnectBaseMs', options.reconnectBaseMs, 100),
    reconnectMaxMs: positiveMs('reconnectMaxMs', options.reconnectMaxMs, 5000),
    WebSocket: options.WebSocket,
    discoverPeers: options.discoverPeers ?? true,
    routing: options.routing ?? 'peer',
    batching: options.batching ?? true,
  };
  if (resolved.routing !== 'peer' && resolved.routing !== 'ring') {
    throw new CacheError('BAD_CONFIG', `routing: expected 'peer' or 'ring', got ${JSON.stringify(resolved.routing)}`);
  }
  if (typeof resolved.batching !== 'boolean') throw new CacheError('BAD_CONFIG', 'batching: expected a boolean');
  if (resolved.reconnectMaxMs < resolved.reconnectBaseMs) {
    throw new CacheError('BAD_CONFIG', 'reconnectMaxMs: must be at least reconnectBaseMs');
  }
  if (resolved.WebSocket !== undefined && typeof resolved.WebSocket !== 'function') {
    throw new CacheError('BAD_CONFIG', 'WebSocket: expected a constructor');
  }
  return resolved;
}

function positiveMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new CacheError('BAD_CONFIG', `${name}: expected a positive number of ms, got ${String(value)}`);
  }
  return Math.min(value, MAX_TIMER_MS);
}

/**
 * The `key` field of a request as JSON text to follow `id` and `op` (`,"key":"..."`).
 * @throws CacheError BAD_REQUEST for a key that is not a string
 */
function keyField(key: unknown): string {
  return `,"key":${JSON.stringify(checkKey(key))}`;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new CacheError('BAD_REQUEST', `key must be a string, got ${key === null ? 'null' : typeof key}`);
  return key;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(op: string): CacheError {
  return new CacheError('INTERNAL', `${op}: malformed reply from the peer`);
}

function expectField<K extends 'boolean' | 'number'>(reply: ReplyFrame, field: string, type: K, op: string): K extends 'boolean' ? boolean : number {
  const value = reply[field];
  if (typeof value !== type) throw malformed(op);
  return value as K extends 'boolean' ? boolean : number;
}

function toEntry<T>(item: unknown, op: string): Entry<T> {
  if (!isObject(item) || typeof item.found !== 'boolean') throw malformed(op);
  return item.found ? { found: true, value: item.value as T } : { found: false };
}

function parseRing(value: unknown): RingInfo | undefined {
  if (!isObject(value) || !Array.isArray(value.peers)) return undefined;
  if (!value.peers.every((peer) => isObject(peer) && typeof peer.id === 'string')) return undefined;
  return value as unknown as RingInfo;
}

function parseMemberEvent(frame: Record<string, unknown>): MemberEvent | undefined {
  const { peer, state } = frame;
  if (!isObject(peer) || typeof peer.id !== 'string' || typeof state !== 'string') return undefined;
  return { peer: peer as unknown as PeerInfo, state: state as MemberState };
}

/** The `BAD_REQUEST` of a request whose fields `JSON.stringify` refused (a BigInt, a cycle). */
function unencodable(op: string, error: unknown): CacheError {
  return new CacheError('BAD_REQUEST', `${op}: the request cannot be encoded as JSON: ${errorMessage(error)}`, { cause: error });
}

function abortedError(op: string, signal: AbortSignal): CacheError {
  return new CacheError('ABORTED', `${op}: aborted`, { cause: signal.reason });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
