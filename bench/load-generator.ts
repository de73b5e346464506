/**
 * The load generator of `npm run bench` (bench/perf.ts): C connections with P requests in flight
 * each, against one target, bounded by a count and a time, over uniform random keys. The same
 * code drives every target, so the figures differ only by the server:
 *
 * - `ws` / `raw`: one JSON text frame per request (`{"id","op","key"[,"value"]}`), P in flight per
 *   socket, replies matched by id. Used for the bare `ws` server, the bare forwarder and peers.
 * - `ws` / `batch`: P requests in ONE array frame, one frame in flight per socket, one array reply
 *   (the batch frames of issue 5; like `redis-benchmark -P`).
 * - `client`: `CacheClient` (src/client/cache-client.ts) with the given options (e.g.
 *   `routing: 'ring'`, `batching: true`), P calls in flight per client.
 * - `redis`: ioredis, P commands in flight per connection (no auto-pipelining).
 *
 * Keys are `key:` + 12 decimal digits (16 bytes, the key format of `redis-benchmark -r`), values
 * are a string of `valueBytes` characters. Latency is the time from issuing a request to its reply
 * (for a batch, the frame's round trip counts for each of its requests), recorded in µs in a
 * `perf_hooks` histogram. Runs in its own process (bench/load-generator-process.ts) so that its CPU
 * is not the servers'.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { corkableTransport } from '../src/client/websocket-factory.js';
import { CacheClient, type CacheClientOptions } from '../src/client/cache-client.js';

/** What to connect to. */
export type LoadTarget =
  | {
      kind: 'ws';
      mode: 'raw' | 'batch';
      urls: string[];
      /**
       * Key indices per URL: a connection to `urls[j]` draws its keys from `indicesPerUrl[j]`
       * instead of from {@link LoadKeys} (e.g. each peer's primary keys: ideal ring routing).
       */
      indicesPerUrl?: number[][];
    }
  | { kind: 'client'; urls: string[]; options: ClientLoadOptions }
  | { kind: 'redis'; host: string; port: number };

/** The CacheClient options a `client` target may set (plain data: they cross the IPC channel). */
export type ClientLoadOptions = Pick<CacheClientOptions, 'routing' | 'batching' | 'discoverPeers'>;

/** How to connect: C connections (spread round-robin over the target's URLs), P in flight each. */
export interface LoadShape {
  connections: number;
  pipeline: number;
}

/** The keys to draw from and the value to write. */
export interface LoadKeys {
  /** Keys are `keyName(i)` for i in `indices` when given, else for i in [0, keyCount). */
  keyCount: number;
  indices?: number[];
  valueBytes: number;
}

/** One measured phase. */
export interface LoadPhase {
  op: 'get' | 'set';
  /** Stop issuing after this many requests... */
  maxOps: number;
  /** ...or after this long (ms), whichever comes first; requests in flight then are awaited. */
  maxMs: number;
  /** Deadline of one request (ms); a request past it counts as an error. Default 10000. */
  requestTimeoutMs?: number;
}

/** Latency figures in µs. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** What a phase measured. */
export interface LoadResult {
  op: 'get' | 'set';
  /** Requests answered (successfully or not). */
  ops: number;
  /** Requests answered with `ok: false`, failed, or timed out. */
  errors: number;
  /** GETs answered "not found" (every key was preloaded, so these are wrong answers too). */
  misses: number;
  elapsedMs: number;
  opsPerSec: number;
  /** Successful requests only. */
  latencyUs: LatencySummary;
  /** The first error seen, for the report. */
  firstError?: string;
  /** True when the phase ended by `maxMs` rather than `maxOps`. */
  stoppedByTime: boolean;
}

/** `key:` + i in 12 digits: 16 bytes for i < 10^12. */
export function keyName(i: number): string {
  return `key:${String(i).padStart(12, '0')}`;
}

/** One connection of any kind: issues `op` on `key` and tells whether the key was found. */
interface Connection {
  /**
   * Runs `count` requests at once (count > 1 only for batch connections).
   * @returns per request: 'ok' | 'miss' | an error message
   */
  issue(op: 'get' | 'set', keys: string[], timeoutMs: number): Promise<Array<'ok' | 'miss' | string>>;
  close(): Promise<void>;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A request (or batch, under its first id) waiting for its reply. */
interface Waiting {
  /** performance.now() past which it fails with a timeout. */
  deadline: number;
  /** Called with the reply: an object, an array (batch), or an error object for a whole batch. */
  resolve(reply: unknown): void;
}

/** How often a connection fails the requests past their deadline, ms (one sweep, not a timer per request). */
const SWEEP_INTERVAL_MS = 250;

/** A raw `ws` socket speaking the client protocol by hand (text frames, replies matched by id). */
class WsConnection implements Connection {
  private nextId = 1;
  /** Request id (for a batch: its first request's id) -> the waiting caller. */
  private readonly waiting = new Map<number, Waiting>();
  private closedError: string | undefined;
  /** True from the first send of a tick until the socket is uncorked on the next one. */
  private corked = false;
  private readonly sweep: ReturnType<typeof setInterval>;

  private constructor(
    private readonly socket: WebSocket,
    private readonly valueJson: string,
  ) {
    socket.on('message', (data) => this.onMessage(data.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedError = 'socket closed';
      this.failAll(() => true, 'socket closed');
    });
    this.sweep = setInterval(() => {
      const now = performance.now();
      this.failAll((entry) => entry.deadline <= now, 'no reply before the request deadline');
    }, SWEEP_INTERVAL_MS);
  }

  /** @throws Error when the socket does not open within `timeoutMs` */
  static async open(url: string, value: string, timeoutMs: number): Promise<WsConnection> {
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`connect to ${url}: no open within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return new WsConnection(socket, JSON.stringify(value));
  }

  private failAll(which: (entry: Waiting) => boolean, why: string): void {
    const failed = { id: null, ok: false, error: { code: 'TIMEOUT', message: why } };
    for (const [id, entry] of this.waiting) {
      if (!which(entry)) continue;
      this.waiting.delete(id);
      entry.resolve(failed);
    }
  }

  private onMessage(text: string): void {
    const reply: unknown = JSON.parse(text);
    const id = Array.isArray(reply) ? (reply[0] as { id?: unknown } | undefined)?.id : (reply as { id?: unknown }).id;
    if (typeof id === 'number') {
      const entry = this.waiting.get(id);
      if (entry) {
        this.waiting.delete(id);
        entry.resolve(reply);
      }
      return;
    }
    // A frame-level error (id null) answers the oldest request in flight: e.g. a peer without batch frames.
    if (id === null) {
      const oldest = this.waiting.entries().next().value as [number, Waiting] | undefined;
      if (oldest) {
        this.waiting.delete(oldest[0]);
        oldest[1].resolve(reply);
      }
    }
  }

  /**
   * Sends one text frame. The frames of one tick leave in one write (the TCP socket is corked
   * until the next tick), as a pipelining client's do: without it every frame is a syscall of its
   * own and the generator, not the server, is the bottleneck.
   */
  private send(text: string): void {
    if (!this.corked) {
      const tcp = corkableTransport(this.socket);
      if (tcp) {
        this.corked = true;
        tcp.cork();
        process.nextTick(() => {
          this.corked = false;
          tcp.uncork();
        });
      }
    }
    this.socket.send(text);
  }

  /** Sends `text` as request (or batch) `id` and resolves with its reply. */
  private exchange(id: number, text: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve) => {
      this.waiting.set(id, { deadline: performance.now() + timeoutMs, resolve });
      this.send(text);
    });
  }

  private request(op: 'get' | 'set', key: string, id: number): string {
    return op === 'get' ? `{"id":${id},"op":"get","key":"${key}"}` : `{"id":${id},"op":"set","key":"${key}","value":${this.valueJson}}`;
  }

  async issue(op: 'get' | 'set', keys: string[], timeoutMs: number): Promise<Array<'ok' | 'miss' | string>> {
    if (this.closedError) return keys.map(() => this.closedError!);
    if (keys.length === 1) {
      const id = this.nextId++;
      return [outcomeOf(op, await this.exchange(id, this.request(op, keys[0]!, id), timeoutMs))];
    }
    const first = this.nextId;
    const frame = `[${keys.map((key) => this.request(op, key, this.nextId++)).join(',')}]`;
    const replies = await this.exchange(first, frame, timeoutMs);
    if (Array.isArray(replies) && replies.length === keys.length) return replies.map((reply) => outcomeOf(op, reply));
    const why = describeReplyError(replies) ?? `batch of ${keys.length} answered by ${JSON.stringify(replies)?.slice(0, 200)}`;
    return keys.map(() => why);
  }

  /** One `mset` request of `keys` (for peers without batch frames). @returns one outcome for the whole request */
  async mset(keys: string[], timeoutMs: number): Promise<Array<'ok' | 'miss' | string>> {
    const id = this.nextId++;
    const entries = keys.map((key) => `{"key":"${key}","value":${this.valueJson}}`).join(',');
    return [outcomeOf('set', await this.exchange(id, `{"id":${id},"op":"mset","entries":[${entries}]}`, timeoutMs))];
  }

  close(): Promise<void> {
    clearInterval(this.sweep);
    this.socket.terminate();
    return Promise.resolve();
  }
}

/** `code: message` of an error reply, undefined for anything else. */
function describeReplyError(reply: unknown): string | undefined {
  const error = (reply as { ok?: unknown; error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if ((reply as { ok?: unknown } | undefined)?.ok !== false || !error) return undefined;
  return `${String(error.code)}: ${String(error.message)}`;
}

function outcomeOf(op: 'get' | 'set', reply: unknown): 'ok' | 'miss' | string {
  const object = reply as { ok?: unknown; found?: unknown } | undefined;
  if (object?.ok !== true) return describeReplyError(reply) ?? `unexpected reply ${JSON.stringify(reply)?.slice(0, 200)}`;
  return op === 'get' && object.found !== true ? 'miss' : 'ok';
}

/**
 * One call per key, their outcomes in key order. A worker of an unbatched connection issues one
 * key at a time: that call is awaited alone, without `Promise.all` over a one-key array.
 */
function eachKey(keys: string[], one: (key: string) => Promise<'ok' | 'miss' | string>): Promise<Array<'ok' | 'miss' | string>> {
  if (keys.length === 1) return one(keys[0]!).then((outcome) => [outcome]);
  return Promise.all(keys.map(one));
}

/** A `CacheClient`: every `issue` is one `get`/`set` call. */
class ClientConnection implements Connection {
  private constructor(
    private readonly client: CacheClient,
    private readonly value: string,
  ) {}

  static async open(urls: string[], options: ClientLoadOptions, value: string, timeoutMs: number): Promise<ClientConnection> {
    const client = await CacheClient.connect(urls, { timeoutMs, ...options });
    return new ClientConnection(client, value);
  }

  issue(op: 'get' | 'set', keys: string[], timeoutMs: number): Promise<Array<'ok' | 'miss' | string>> {
    return eachKey(keys, (key) => this.one(op, key, timeoutMs));
  }

  private async one(op: 'get' | 'set', key: string, timeoutMs: number): Promise<'ok' | 'miss' | string> {
    try {
      if (op === 'set') {
        await this.client.set(key, this.value, { timeoutMs });
        return 'ok';
      }
      return (await this.client.getEntry(key, { timeoutMs })).found ? 'ok' : 'miss';
    } catch (error) {
      return describeError(error);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** An ioredis connection: `GET key` / `SET key value`. */
class RedisConnection implements Connection {
  private constructor(
    private readonly redis: Redis,
    private readonly value: string,
  ) {}

  static async open(host: string, port: number, value: string, timeoutMs: number): Promise<RedisConnection> {
    const redis = new Redis({ host, port, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, enableAutoPipelining: false });
    redis.on('error', () => undefined);
    await redis.connect();
    return new RedisConnection(redis, value);
  }

  issue(op: 'get' | 'set', keys: string[]): Promise<Array<'ok' | 'miss' | string>> {
    return eachKey(keys, (key) => this.one(op, key));
  }

  private async one(op: 'get' | 'set', key: string): Promise<'ok' | 'miss' | string> {
    try {
      if (op === 'set') return (await this.redis.set(key, this.value)) === 'OK' ? 'ok' : 'SET did not answer OK';
      return (await this.redis.get(key)) === null ? 'miss' : 'ok';
    } catch (error) {
      return describeError(error);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

function summarize(histogram: RecordableHistogram): LatencySummary {
  if (histogram.count === 0) return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  return { p50: histogram.percentile(50), p90: histogram.percentile(90), p99: histogram.percentile(99), max: histogram.max, mean: Math.round(histogram.mean * 10) / 10 };
}

/**
 * C open connections to one target; runs measured phases on them. Not reentrant: one phase at a time.
 */
export class LoadSession {
  private constructor(
    private readonly connections: Connection[],
    private readonly shape: LoadShape,
    private readonly keys: LoadKeys,
    private readonly batch: boolean,
    /** Per connection, the key indices it draws from when not all of {@link keys}. */
    private readonly connectionIndices: Array<number[] | undefined>,
  ) {}

  /**
   * Opens `shape.connections` connections to `target` (in parallel).
   * @throws Error when any connection fails to open within `connectTimeoutMs` (the others are closed)
   */
  static async open(target: LoadTarget, shape: LoadShape, keys: LoadKeys, connectTimeoutMs = 10_000): Promise<LoadSession> {
    if (shape.connections < 1 || shape.pipeline < 1) throw new Error(`connections and pipeline must be >= 1 (got ${shape.connections}, ${shape.pipeline})`);
    const value = 'v'.repeat(keys.valueBytes);
    const opened = await Promise.allSettled(
      Array.from({ length: shape.connections }, (_, i): Promise<Connection> => {
        switch (target.kind) {
          case 'ws':
            return WsConnection.open(target.urls[i % target.urls.length]!, value, connectTimeoutMs);
          case 'client':
            return ClientConnection.open(target.urls, target.options, value, connectTimeoutMs);
          case 'redis':
            return RedisConnection.open(target.host, target.port, value, connectTimeoutMs);
        }
      }),
    );
    const connections = opened.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failure = opened.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) {
      await Promise.all(connections.map((connection) => connection.close()));
      throw new Error(`opening ${shape.connections} connections: ${describeError(failure.reason)}`);
    }
    const perUrl = target.kind === 'ws' ? target.indicesPerUrl : undefined;
    const connectionIndices = connections.map((_, i) => perUrl?.[i % perUrl.length]);
    if (connectionIndices.some((indices) => indices?.length === 0)) throw new Error('indicesPerUrl: a URL without keys');
    return new LoadSession(connections, shape, keys, target.kind === 'ws' && target.mode === 'batch', connectionIndices);
  }

  /** Runs one phase: every connection keeps P requests in flight until the count or the time is spent. */
  async run(phase: LoadPhase): Promise<LoadResult> {
    const histogram = createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
    const timeoutMs = phase.requestTimeoutMs ?? 10_000;
    const drawFrom = (indices: number[] | undefined): (() => string) =>
      indices ? () => keyName(indices[Math.floor(Math.random() * indices.length)]!) : () => keyName(Math.floor(Math.random() * this.keys.keyCount));
    const sessionKey = drawFrom(this.keys.indices);
    let issued = 0;
    let ops = 0;
    let errors = 0;
    let misses = 0;
    let firstError: string | undefined;
    let stoppedByTime = false;
    const started = performance.now();
    const deadline = started + phase.maxMs;
    const more = (): boolean => {
      if (issued >= phase.maxOps) return false;
      if (performance.now() >= deadline) {
        stoppedByTime = true;
        return false;
      }
      return true;
    };
    // A worker issues `size` requests at a time (P for a batch connection, else 1) until the bounds are spent.
    const worker = async (connection: Connection, size: number, randomKey: () => string): Promise<void> => {
      while (more()) {
        const count = Math.min(size, phase.maxOps - issued);
        issued += count;
        const keys = Array.from({ length: count }, randomKey);
        const sentAt = performance.now();
        const outcomes = await connection.issue(phase.op, keys, timeoutMs);
        const micros = Math.max(1, Math.round((performance.now() - sentAt) * 1000));
        for (const outcome of outcomes) {
          ops++;
          if (outcome === 'ok') histogram.record(micros);
          else if (outcome === 'miss') misses++;
          else {
            errors++;
            firstError ??= outcome;
          }
        }
      }
    };
    const workers = this.connections.flatMap((connection, i) => {
      const randomKey = this.connectionIndices[i] ? drawFrom(this.connectionIndices[i]) : sessionKey;
      return this.batch ? [worker(connection, this.shape.pipeline, randomKey)] : Array.from({ length: this.shape.pipeline }, () => worker(connection, 1, randomKey));
    });
    await Promise.all(workers);
    const elapsedMs = performance.now() - started;
    return {
      op: phase.op,
      ops,
      errors,
      misses,
      elapsedMs: Math.round(elapsedMs * 10) / 10,
      opsPerSec: Math.round((ops / elapsedMs) * 1000),
      latencyUs: summarize(histogram),
      ...(firstError === undefined ? {} : { firstError }),
      stoppedByTime,
    };
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
  }
}

/** What {@link preload} did. */
export interface PreloadResult {
  entries: number;
  /** How the entries went out: batch frames, `mset` frames (a peer without batch frames), or Redis pipelines. */
  via: 'batch' | 'mset' | 'redis-pipeline';
  elapsedMs: number;
}

/**
 * Writes `keyName(i)` = the value for every i in [0, keys.keyCount) (or in `keys.indices`),
 * `chunk` entries per frame (or pipeline), `inFlight` frames at a time. For a `ws` target the
 * first frame is a batch frame; when it is answered with a single error (no batch support),
 * the entries go out as `mset` requests instead.
 * @throws Error on any error reply, on a socket failure, or when it takes over `budgetMs`
 */
export async function preload(target: LoadTarget, keys: LoadKeys, options: { chunk?: number; inFlight?: number; budgetMs?: number } = {}): Promise<PreloadResult> {
  const chunk = options.chunk ?? 200;
  const inFlight = options.inFlight ?? 4;
  const budgetMs = options.budgetMs ?? 300_000;
  const all = keys.indices ?? Array.from({ length: keys.keyCount }, (_, i) => i);
  const value = 'v'.repeat(keys.valueBytes);
  const started = performance.now();
  const chunks: number[][] = [];
  for (let i = 0; i < all.length; i += chunk) chunks.push(all.slice(i, i + chunk));
  const checkBudget = (): void => {
    if (performance.now() - started > budgetMs) throw new Error(`preloading ${all.length} entries took over ${budgetMs} ms`);
  };
  if (target.kind === 'redis') {
    const redis = new Redis({ host: target.host, port: target.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      for (let i = 0; i < chunks.length; i += inFlight) {
        checkBudget();
        await Promise.all(
          chunks.slice(i, i + inFlight).map(async (indices) => {
            const pipeline = redis.pipeline();
            for (const index of indices) pipeline.set(keyName(index), value);
            for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
          }),
        );
      }
    } finally {
      redis.disconnect();
    }
    return { entries: all.length, via: 'redis-pipeline', elapsedMs: Math.round(performance.now() - started) };
  }
  if (target.kind !== 'ws') throw new Error('preload: a ws or redis target');
  const connection = await WsConnection.open(target.urls[0]!, value, 10_000);
  try {
    // The first frame decides: a batch frame, or (when answered with one error) mset frames.
    const first = await connection.issue('set', chunks[0]!.map(keyName), 30_000);
    const batches = first.every((outcome) => outcome === 'ok');
    if (!batches && first.length !== chunks[0]!.length) throw new Error(`preload: ${first[0]}`);
    const via = batches ? 'batch' : 'mset';
    const rest = batches ? chunks.slice(1) : chunks;
    for (let i = 0; i < rest.length; i += inFlight) {
      checkBudget();
      const outcomes = await Promise.all(
        rest.slice(i, i + inFlight).map((indices) => (batches ? connection.issue('set', indices.map(keyName), 30_000) : connection.mset(indices.map(keyName), 30_000))),
      );
      const failure = outcomes.flat().find((outcome) => outcome !== 'ok');
      if (failure) throw new Error(`preload (${via}): ${failure}`);
    }
    return { entries: all.length, via, elapsedMs: Math.round(performance.now() - started) };
  } finally {
    await connection.close();
  }
}
