/**
 * CacheClient against a stand-in peer: a real `ws` WebSocketServer on 127.0.0.1 port 0 that
 * speaks the client wire contract over an in-test Map. (Integration tests run the client against
 * real peers.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Socket as NetSocket, createServer, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { CacheClient, reconnectDelayMs, type CacheClientOptions, type MemberEvent, type RingInfo, type RingPeer } from '../../../src/client/cache-client.js';
import { resolveWebSocket, type WebSocketConstructor } from '../../../src/client/websocket-factory.js';
import { CacheError } from '../../../src/errors.js';
import { HashRing } from '../../../src/ring/hash-ring.js';

// --- helpers ----------------------------------------------------------------------------------

// Captured before any test fakes the timers, so the helpers keep polling in real time.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

type Frame = Record<string, unknown> & { id?: unknown; op?: unknown };
type Reply = (body: Record<string, unknown>) => void;
/** Returns true when it took care of the request (replied now, later or never). */
type Intercept = (frame: Frame, reply: Reply, socket: WebSocket) => boolean;

/** Polls `condition` every 5 ms until it holds; fails after `timeoutMs`. */
async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => realSetTimeout(resolve, 5));
  }
}

/** Resolves with the next `event` of the client; fails after `timeoutMs`. */
function nextEvent<E extends 'connect' | 'disconnect' | 'member' | 'ring'>(client: CacheClient, event: E, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: unknown): void => {
      realClearTimeout(timer);
      resolve(payload);
    };
    client.once(event, listener);
  });
}

/** A peer stand-in: the client contract over a Map, with hooks to delay, drop or refuse. */
class StandInPeer {
  readonly store = new Map<string, { value: unknown; expiresAt?: number }>();
  readonly sockets = new Set<WebSocket>();
  readonly watchers = new Set<WebSocket>();
  /** Every request received, batched or not, in order. */
  readonly received: Frame[] = [];
  /** Every frame received as parsed: a request object, or an array of them (a batch frame). */
  readonly frames: Array<Frame | Frame[]> = [];
  intercept: Intercept | undefined;
  /** Members reported by `ring`; the stand-in itself by default. */
  ringPeers: RingPeer[];
  /** When false, WebSocket handshakes are refused (HTTP 401). */
  accept = true;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
    readonly id: string,
  ) {
    this.ringPeers = [{ id, url, state: 'alive', incarnation: 0, ownership: 1 }];
    wss.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.watchers.delete(socket);
      });
      socket.on('message', (data) => this.onMessage(socket, data.toString()));
    });
  }

  static async start(id: string): Promise<StandInPeer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: () => peer.accept });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const { port } = wss.address() as { port: number };
    const peer: StandInPeer = new StandInPeer(wss, `ws://127.0.0.1:${port}/`, id);
    return peer;
  }

  ops(op: string): Frame[] {
    return this.received.filter((frame) => frame.op === op);
  }

  ring(): RingInfo {
    return { epoch: 1, checksum: 'c0ffee', replicas: 2, vnodes: 8, self: this.id, peers: this.ringPeers };
  }

  /** Sends an event frame to every watcher. */
  push(frame: Record<string, unknown>): void {
    for (const socket of this.watchers) socket.send(JSON.stringify(frame));
  }

  /** Closes every client socket with `code` (a closing handshake, as a peer shutting down does). */
  dropConnections(code = 1001, reason = 'going away'): void {
    for (const socket of this.sockets) socket.close(code, reason);
  }

  async stop(): Promise<void> {
    this.accept = false;
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onMessage(socket: WebSocket, text: string): void {
    const parsed = JSON.parse(text) as Frame | Frame[];
    this.frames.push(parsed);
    const send = (body: unknown): void => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(body));
    };
    if (!Array.isArray(parsed)) {
      this.handle(parsed, socket, (body) => send({ id: parsed.id, ...body }));
      return;
    }
    // A batch frame: one array of replies, in request order, once every request is answered.
    const replies = new Array<Record<string, unknown> | undefined>(parsed.length);
    let missing = parsed.length;
    parsed.forEach((frame, index) => {
      this.handle(frame, socket, (body) => {
        if (replies[index] !== undefined) return;
        replies[index] = { id: frame.id, ...body };
        if (--missing === 0) send(replies);
      });
    });
  }

  private handle(frame: Frame, socket: WebSocket, reply: Reply): void {
    this.received.push(frame);
    if (this.intercept?.(frame, reply, socket)) return;
    this.serve(frame, reply, socket);
  }

  private live(key: string): { value: unknown; expiresAt?: number } | undefined {
    const entry = this.store.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.store.delete(key);
      return undefined;
    }
    return entry;
  }

  private serve(frame: Frame, reply: Reply, socket: WebSocket): void {
    const key = frame.key as string;
    const fail = (code: string, message: string): void => reply({ ok: false, error: { code, message } });
    switch (frame.op) {
      case 'get': {
        const entry = this.live(key);
        return reply(entry ? { ok: true, found: true, value: entry.value } : { ok: true, found: false });
      }
      case 'set':
        this.store.set(key, { value: frame.value, expiresAt: typeof frame.ttl === 'number' ? Date.now() + frame.ttl : undefined });
        return reply({ ok: true });
      case 'del':
        return reply({ ok: true, deleted: this.store.delete(key) });
      case 'expire': {
        const entry = this.live(key);
        if (entry) entry.expiresAt = Date.now() + (frame.ttl as number);
        return reply({ ok: true, updated: entry !== undefined });
      }
      case 'ttl': {
        const entry = this.live(key);
        const ttl = entry === undefined ? -2 : entry.expiresAt === undefined ? -1 : entry.expiresAt - Date.now();
        return reply({ ok: true, ttl });
      }
      case 'incr': {
        const current = this.live(key)?.value ?? 0;
        if (!Number.isInteger(current)) return fail('NOT_A_NUMBER', `${key} does not hold an integer`);
        const value = (current as number) + ((frame.by as number | undefined) ?? 1);
        this.store.set(key, { value });
        return reply({ ok: true, value });
      }
      case 'mget':
        return reply({
          ok: true,
          values: (frame.keys as string[]).map((k) => {
            const entry = this.live(k);
            return entry ? { found: true, value: entry.value } : { found: false };
          }),
        });
      case 'mset':
        for (const entry of frame.entries as Array<{ key: string; value: unknown }>) this.store.set(entry.key, { value: entry.value });
        return reply({ ok: true });
      case 'ring':
        return reply({ ok: true, ring: this.ring() });
      case 'watch':
        this.watchers.add(socket);
        return reply({ ok: true });
      case 'unwatch':
        this.watchers.delete(socket);
        return reply({ ok: true });
      case 'stats':
        return reply({ ok: true, stats: { requests: this.received.length, store: { keys: this.store.size } } });
      default:
        return fail('UNKNOWN_OP', `unknown op ${String(frame.op)}`);
    }
  }
}

const FAST: CacheClientOptions = { timeoutMs: 5000, reconnectBaseMs: 10, reconnectMaxMs: 50 };

const peers: StandInPeer[] = [];
const clients: CacheClient[] = [];

async function startPeer(id = `p${peers.length + 1}`): Promise<StandInPeer> {
  const peer = await StandInPeer.start(id);
  peers.push(peer);
  return peer;
}

async function connect(urls: string | string[], options: CacheClientOptions = {}): Promise<CacheClient> {
  const client = await CacheClient.connect(urls, { ...FAST, ...options });
  clients.push(client);
  return client;
}

/**
 * Counts the TCP sockets and connects in progress of this process (timers are checked with fake
 * timers instead: the test runner's own timers come and go).
 */
function openSocketCount(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap' || type === 'ConnectWrap').length;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
});

// --- tests ------------------------------------------------------------------------------------


/** A client connected to a stand-in peer that then drops it and refuses new connections. */
async function connectThenRefuse(): Promise<{ peer: StandInPeer; client: CacheClient }> {
  const peer = await startPeer();
  const client = await connect(peer.url, { discoverPeers: false });
  peer.accept = false;
  const disconnected = nextEvent(client, 'disconnect');
  peer.dropConnections();
  await disconnected;
  return { peer, client };
}

describe('CacheClient requests', () => {
  it('runs every op of the contract', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url);
    expect(client.status).toBe('connected');
    expect(client.url).toBe(peer.url);

    await client.set('a', { n: 1 });
    expect(await client.get('a')).toEqual({ n: 1 });
    expect(await client.get('missing')).toBeUndefined();
    await client.set('nothing', null);
    expect(await client.getEntry('nothing')).toEqual({ found: true, value: null });
    expect(await client.getEntry('missing')).toEqual({ found: false });

    await client.set('t', 'v', { ttl: 60_000 });
    expect(peer.ops('set').at(-1)).toMatchObject({ key: 't', value: 'v', ttl: 60_000 });
    expect(await client.ttl('t')).toBeGreaterThan(59_000);
    expect(await client.ttl('a')).toBe(-1);
    expect(await client.ttl('missing')).toBe(-2);
    expect(await client.expire('a', 30_000)).toBe(true);
    expect(await client.expire('missing', 30_000)).toBe(false);

    expect(await client.incr('n')).toBe(1);
    expect(await client.incr('n', 41)).toBe(42);
    expect(await client.incr('n', -2)).toBe(40);

    expect(await client.del('n')).toBe(true);
    expect(await client.del('n')).toBe(false);

    await client.mset([{ key: 'x', value: 1 }, { key: 'y', value: 'two', ttl: 1000 }]);
    expect(await client.mget(['x', 'nope', 'y'])).toEqual([{ found: true, value: 1 }, { found: false }, { found: true, value: 'two' }]);
    expect(await client.mget([])).toEqual([]);

    const ring = await client.ring();
    expect(ring).toMatchObject({ epoch: 1, self: 'p1', peers: [{ id: 'p1', state: 'alive', ownership: 1 }] });
    expect(await client.stats()).toMatchObject({ store: { keys: expect.any(Number) } });

    const raw = await client.call('get', { key: 'x' });
    expect(raw).toMatchObject({ ok: true, found: true, value: 1 });
  });

  it('sends increasing numeric ids and correlates replies that arrive out of order', async () => {
    const peer = await startPeer();
    // Unbatched, so that each request is a frame of its own that the stand-in can answer in any order.
    const client = await connect(peer.url, { discoverPeers: false, batching: false });
    for (const key of ['a', 'b', 'c']) peer.store.set(key, { value: `value of ${key}` });
    const held: Array<() => void> = [];
    peer.intercept = (frame, reply) => {
      if (frame.op !== 'get') return false;
      held.push(() => reply({ ok: true, found: true, value: peer.store.get(frame.key as string)!.value }));
      return true;
    };

    const results = Promise.all(['a', 'b', 'c'].map((key) => client.get(key)));
    await waitFor(() => held.length === 3, 5000, 'three held requests');
    const ids = peer.ops('get').map((frame) => frame.id as number);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);

    for (const release of held.reverse()) release();
    expect(await results).toEqual(['value of a', 'value of b', 'value of c']);
    expect(client.pendingCount).toBe(0);
  });

  it('rejects with TIMEOUT at the per-call deadline and ignores the late reply', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    let late: (() => void) | undefined;
    peer.intercept = (frame, reply) => {
      if (frame.key !== 'slow') return false;
      late = () => reply({ ok: true, found: true, value: 'late' });
      return true;
    };

    const started = Date.now();
    const error = await client.get('slow', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(client.pendingCount).toBe(0);

    late!();
    await client.set('k', 1);
    expect(await client.get('k')).toBe(1);
    expect(client.status).toBe('connected');
  });

  it('rejects with ABORTED when the signal fires, and at once for an aborted signal', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    peer.intercept = (frame) => frame.key === 'hang';

    const controller = new AbortController();
    const aborted = expect(client.get('hang', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await waitFor(() => peer.ops('get').length === 1, 5000, 'the request at the peer');
    controller.abort(new Error('user gave up'));
    await aborted;
    expect(client.pendingCount).toBe(0);

    const gets = peer.ops('get').length;
    await expect(client.get('k', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    await client.set('after', 1);
    expect(peer.ops('get').length).toBe(gets);
  });

  it('rejects an error reply with a CacheError carrying the wire code', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    await client.set('s', 'text');

    const error = await client.incr('s').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ code: 'NOT_A_NUMBER', message: 's does not hold an integer' });
    await expect(client.call('frobnicate')).rejects.toMatchObject({ code: 'UNKNOWN_OP' });

    peer.intercept = (frame, reply) => {
      if (frame.op !== 'get') return false;
      reply({ ok: false, error: { code: 'SOMETHING_NEW', message: 'from a newer peer' } });
      return true;
    };
    await expect(client.get('x')).rejects.toMatchObject({ code: 'INTERNAL', message: 'from a newer peer' });
  });

  it('validates keys client-side and never sends a bad request', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    await expect(client.get(42 as unknown as string)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(client.set('k', 10n)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(client.set('k', cyclic)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('cannot be encoded as JSON') });
    await expect(client.call('set', { key: 'k', value: 10n })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(client.get('k', { timeoutMs: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(peer.received).toHaveLength(0);
  });

  it('writes id and op first, then the fields, leaving out what JSON leaves out', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    await client.set('k', { nested: ['x', 1, null] }, { ttl: 60_000 });
    await client.get('k');
    await client.del('k');
    await client.set('q"uote\\', 'v');
    await client.call('set', { key: 'u', value: 'v', id: 'spoofed', op: 'del' });
    await client.set('f', (() => 1) as unknown);
    expect(peer.received.map((frame) => Object.keys(frame).join(','))).toEqual(['id,op,key,value,ttl', 'id,op,key', 'id,op,key', 'id,op,key,value', 'id,op,key,value', 'id,op,key']);
    expect(peer.received[0]).toMatchObject({ op: 'set', key: 'k', value: { nested: ['x', 1, null] }, ttl: 60_000 });
    expect(peer.received[3]).toMatchObject({ op: 'set', key: 'q"uote\\', value: 'v' });
    expect(peer.received[4]).toMatchObject({ op: 'set', key: 'u' });
    expect(typeof peer.received[4]!.id).toBe('number');
    expect(await client.get('q"uote\\')).toBe('v');
  });

  it('rejects bad options at construction with BAD_CONFIG', () => {
    expect(() => new CacheClient([])).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => new CacheClient('http://127.0.0.1:1')).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => new CacheClient('ws://127.0.0.1:1', { timeoutMs: -5 })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => new CacheClient('ws://127.0.0.1:1', { reconnectBaseMs: 100, reconnectMaxMs: 10 })).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG' }),
    );
  });
});

describe('CacheClient connection', () => {
  it('rejects pending requests with UNAVAILABLE at once when the peer closes the socket, then reconnects', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { timeoutMs: 20_000, discoverPeers: false });
    peer.intercept = (frame) => frame.key === 'hang';

    const started = Date.now();
    const pending = [client.get('hang'), client.get('hang')].map((p) => p.catch((e: unknown) => e));
    await waitFor(() => peer.ops('get').length === 2, 5000, 'the requests at the peer');
    const disconnected = nextEvent(client, 'disconnect');
    const reconnected = nextEvent(client, 'connect');
    peer.dropConnections(1001, 'going away');

    for (const error of await Promise.all(pending)) {
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('UNAVAILABLE');
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await disconnected).toEqual({ url: peer.url, code: 1001, reason: 'going away' });
    expect(await reconnected).toEqual({ url: peer.url });
    peer.intercept = undefined;
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
  });

  it('holds requests issued while disconnected until the connection is back', async () => {
    const { peer, client } = await connectThenRefuse();
    expect(client.status).toBe('reconnecting');

    const queued = client.set('k', 'queued', { timeoutMs: 10_000 });
    const doomed = expect(client.get('k', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await doomed;
    expect(peer.ops('set')).toHaveLength(0);

    peer.accept = true;
    await queued;
    expect(peer.store.get('k')?.value).toBe('queued');
    expect(client.status).toBe('connected');
  });

  it('fails over to the next URL when its peer stops', async () => {
    const first = await startPeer('p1');
    const second = await startPeer('p2');
    const client = await connect([first.url, second.url], { discoverPeers: false });
    expect(client.url).toBe(first.url);
    await client.set('k', 'on first');

    const reconnected = nextEvent(client, 'connect');
    await first.stop();
    expect(await reconnected).toEqual({ url: second.url });
    await client.set('k', 'on second');
    expect(second.store.get('k')?.value).toBe('on second');
    expect(client.url).toBe(second.url);
  });

  it('discovers peers from the ring and fails over to them', async () => {
    const first = await startPeer('p1');
    const second = await startPeer('p2');
    first.ringPeers = [
      { id: 'p1', url: first.url, state: 'alive', incarnation: 0, ownership: 0.5 },
      { id: 'p2', url: second.url, state: 'alive', incarnation: 3, ownership: 0.5 },
      { id: 'p3', url: 'ws://127.0.0.1:1/', state: 'dead', incarnation: 1, ownership: 0 },
    ];
    const client = await connect(first.url);
    // The client asks for the ring after connecting.
    await waitFor(() => client.urls.length === 2, 5000, 'the discovered peer');
    expect(client.urls).toEqual([first.url, second.url]);

    const reconnected = nextEvent(client, 'connect');
    await first.stop();
    expect(await reconnected).toEqual({ url: second.url });
    expect(await client.incr('n')).toBe(1);
  });

  it('connect() rejects with UNAVAILABLE after every URL failed, leaving no timer or socket', async () => {
    const gone = await startPeer('gone');
    const alsoGone = await startPeer('also-gone');
    await gone.stop();
    await alsoGone.stop();
    peers.length = 0;

    const error = await CacheClient.connect([gone.url, alsoGone.url], FAST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('UNAVAILABLE');
    expect((error as CacheError).cause).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('cannot connect to') });

    await waitFor(() => openSocketCount() === 0, 5000, 'earlier sockets to close');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    await expect(CacheClient.connect(gone.url, FAST)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // The attempt armed a connect timer and, once refused, a reconnect timer: both cleared.
    expect(vi.getTimerCount()).toBe(0);
    await waitFor(() => openSocketCount() === 0, 5000, 'sockets to close');
  });

  it('gives up an attempt after connectTimeoutMs, and close() while connecting leaves nothing', async () => {
    // Accepts TCP connections and never answers the WebSocket handshake.
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => {
      accepted.add(socket);
      socket.resume(); // read (and drop) the handshake, so the client's FIN is seen
      socket.on('close', () => accepted.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(silent.address() as { port: number }).port}/`;
    try {
      const error = await CacheClient.connect(url, { ...FAST, connectTimeoutMs: 100 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', cause: { code: 'UNAVAILABLE', cause: { code: 'TIMEOUT' } } });

      await waitFor(() => openSocketCount() === accepted.size, 5000, 'the timed-out socket to close');
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
      const client = new CacheClient(url, FAST);
      await waitFor(() => accepted.size === 1, 5000, 'the TCP connection');
      expect(client.status).toBe('connecting');
      const queued = expect(client.get('k')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await client.close();
      await queued;
      expect(vi.getTimerCount()).toBe(0);
      await waitFor(() => accepted.size === 0, 5000, 'the client to drop the connection');
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('close() rejects pending calls with UNAVAILABLE, never reconnects and leaves no timer or socket', async () => {
    const peer = await startPeer();
    await waitFor(() => openSocketCount() === 0, 5000, 'earlier sockets to close');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const client = await CacheClient.connect(peer.url, FAST);
    await client.watch();
    peer.intercept = (frame) => frame.key === 'hang';
    const pending = expect(client.get('hang')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await waitFor(() => peer.ops('get').length === 1, 5000, 'the request at the peer');
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    const disconnected = nextEvent(client, 'disconnect');
    await client.close();
    await pending;
    expect(await disconnected).toEqual({ url: peer.url, code: 1000, reason: 'client closed' });
    expect(client.status).toBe('closed');
    expect(client.pendingCount).toBe(0);
    await expect(client.get('k')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await client.close();

    await waitFor(() => peer.sockets.size === 0, 5000, 'the peer to see the close');
    await waitFor(() => vi.getTimerCount() === 0, 5000, 'timers to be cleared');
    await waitFor(() => openSocketCount() === 0, 5000, 'sockets to close');
    expect(peer.ops('watch')).toHaveLength(1);
    expect(client.status).toBe('closed');
  });
});

describe('CacheClient watch', () => {
  it('emits member and ring events and subscribes again after a reconnection', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    const members: MemberEvent[] = [];
    const rings: RingInfo[] = [];
    client.on('member', (event) => members.push(event));
    client.on('ring', (ring) => rings.push(ring));

    await client.watch();
    const member = { peer: { id: 'p9', url: 'ws://127.0.0.1:9/', state: 'suspect', incarnation: 2 }, state: 'suspect' };
    peer.push({ event: 'member', ...member });
    peer.push({ event: 'ring', ring: peer.ring() });
    await waitFor(() => members.length === 1 && rings.length === 1, 5000, 'the events');
    expect(members[0]).toEqual(member);
    expect(rings[0]).toEqual(peer.ring());

    const reconnected = nextEvent(client, 'connect');
    peer.dropConnections();
    await reconnected;
    await waitFor(() => peer.watchers.size === 1, 5000, 'the re-subscription');
    expect(peer.ops('watch')).toHaveLength(2);
    peer.push({ event: 'member', peer: { ...member.peer, state: 'dead' }, state: 'dead' });
    await waitFor(() => members.length === 2, 5000, 'the event after reconnecting');
    expect(members[1]!.state).toBe('dead');

    await client.unwatch();
    expect(peer.watchers.size).toBe(0);
    const dropped = nextEvent(client, 'connect');
    peer.dropConnections();
    await dropped;
    await client.set('sync', 1);
    expect(peer.ops('watch')).toHaveLength(2);
  });

  it('skips unknown events and reports unparseable frames as errors', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    const errors: CacheError[] = [];
    client.on('error', (error) => errors.push(error));
    await client.watch();
    peer.push({ event: 'from-the-future', x: 1 });
    for (const socket of peer.sockets) socket.send('not json');
    await waitFor(() => errors.length === 1, 5000, 'the error event');
    expect(errors[0]!.code).toBe('INTERNAL');
    expect(await client.incr('n')).toBe(1);
  });
});

describe('CacheClient batching', () => {
  it('writes the calls of one tick as one array frame and resolves each with its own reply', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    for (let i = 0; i < 10; i++) peer.store.set(`k${i}`, { value: i });
    const before = peer.frames.length;

    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => client.get(`k${i}`)),
      client.incr('k3', 10),
      client.del('k4'),
      client.getEntry('missing'),
    ]);
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, true, { found: false }]);
    const frames = peer.frames.slice(before);
    expect(frames).toHaveLength(1);
    expect(Array.isArray(frames[0])).toBe(true);
    expect((frames[0] as Frame[]).map((frame) => frame.op)).toEqual([...Array<string>(10).fill('get'), 'incr', 'del', 'get']);

    // A lone call stays a plain object frame.
    await client.set('alone', 1);
    expect(Array.isArray(peer.frames.at(-1))).toBe(false);
  });

  it('settles each call of a batch on its own: errors, deadlines and aborts per request', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    await client.set('text', 'abc');
    let release: (() => void) | undefined;
    peer.intercept = (frame, reply) => {
      if (frame.key !== 'slow') return false;
      release = () => reply({ ok: true, found: true, value: 'late' });
      return true;
    };
    const controller = new AbortController();
    const calls = [
      client.incr('text'),
      client.get('slow', { timeoutMs: 100 }),
      client.get('text'),
      client.get('aborted', { signal: controller.signal }),
    ].map((call) => call.then((value) => ({ value }), (error: unknown) => ({ error: (error as CacheError).code })));
    controller.abort();
    // The aborted call never left the client; the slow one holds the batch reply back.
    expect(await calls[3]).toEqual({ error: 'ABORTED' });
    expect(await calls[1]).toEqual({ error: 'TIMEOUT' });
    release!();
    expect(await calls[0]).toEqual({ error: 'NOT_A_NUMBER' });
    expect(await calls[2]).toEqual({ value: 'abc' });
    expect(peer.received.filter((frame) => frame.key === 'aborted')).toHaveLength(0);
    expect(client.pendingCount).toBe(0);
  });

  it('caps a batch at 1024 requests', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false });
    const before = peer.frames.length;
    const values = await Promise.all(Array.from({ length: 1500 }, (_, i) => client.incr(`n${i % 7}`)));
    expect(values.filter((value) => value === 1)).toHaveLength(7);
    const sizes = peer.frames.slice(before).map((frame) => (Array.isArray(frame) ? frame.length : 1));
    expect(sizes).toEqual([1024, 476]);
  });

  it('with batching off sends one frame per call', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false, batching: false });
    const before = peer.frames.length;
    expect(await Promise.all(Array.from({ length: 20 }, (_, i) => client.incr(`n${i}`)))).toEqual(Array<number>(20).fill(1));
    const frames = peer.frames.slice(before);
    expect(frames).toHaveLength(20);
    expect(frames.some((frame) => Array.isArray(frame))).toBe(false);
  });

  it('with batching off writes the frames of one turn to the TCP socket in one writev', async () => {
    const peer = await startPeer();
    const client = await connect(peer.url, { discoverPeers: false, batching: false });
    await client.get('warm');
    // Every write of this process's TCP sockets while the calls are issued and flushed: the
    // stand-in only answers once they are all out, so these are the client's.
    const proto = NetSocket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
    const spies = [vi.spyOn(proto, '_write'), vi.spyOn(proto, '_writev')];
    const calls = Promise.all(Array.from({ length: 20 }, (_, i) => client.incr(`w${i}`)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    const [plain, vectored] = spies.map((spy) => spy.mock.calls.length);
    const chunks = (spies[1]!.mock.calls[0]?.[0] as unknown[] | undefined)?.length;
    for (const spy of spies) spy.mockRestore();
    expect(await calls).toEqual(Array<number>(20).fill(1));
    expect({ plain, vectored }).toEqual({ plain: 0, vectored: 1 });
    // A header and a payload per frame.
    expect(chunks).toBe(40);
    expect(peer.frames.slice(-20)).toHaveLength(20);
  });

  it('requests queued while disconnected go out as one batch on the next connection', async () => {
    const { peer, client } = await connectThenRefuse();
    const queued = Promise.all(Array.from({ length: 5 }, (_, i) => client.set(`q${i}`, i, { timeoutMs: 10_000 })));
    const before = peer.frames.length;
    peer.accept = true;
    await queued;
    expect(peer.frames.slice(before).map((frame) => (Array.isArray(frame) ? frame.length : 1))).toEqual([5]);
  });
});

describe('CacheClient routing ring', () => {
  const VNODES = 16;

  /** Three stand-ins that all report the same three-peer ring. */
  async function threePeers(): Promise<StandInPeer[]> {
    const trio = [await startPeer('p1'), await startPeer('p2'), await startPeer('p3')];
    const ringPeers = trio.map((peer) => ({ id: peer.id, url: peer.url, state: 'alive' as const, incarnation: 0, ownership: 1 / 3 }));
    for (const peer of trio) {
      peer.ringPeers = ringPeers;
      peer.ring = () => ({ epoch: 1, checksum: new HashRing(['p1', 'p2', 'p3'], { vnodes: VNODES, replicas: 1 }).checksum, replicas: 1, vnodes: VNODES, self: peer.id, peers: peer.ringPeers });
    }
    return trio;
  }

  it('sends each key operation to its primary, learnt from the ring', async () => {
    const trio = await threePeers();
    const byId = new Map(trio.map((peer) => [peer.id, peer]));
    const client = await connect(trio[0]!.url, { routing: 'ring' });
    expect(client.routing).toBe('ring');
    const ring = new HashRing(['p1', 'p2', 'p3'], { vnodes: VNODES, replicas: 1 });
    await waitFor(() => client.ringChecksum === ring.checksum, 5000, 'the client to learn the ring');
    await waitFor(() => trio[0]!.watchers.size === 1, 5000, 'the client\'s own subscription');

    const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`);
    await Promise.all(keys.map((key, i) => client.set(key, i)));
    for (const key of keys) {
      const primary = byId.get(ring.primary(key)!)!;
      expect(primary.store.has(key)).toBe(true);
      for (const other of trio) if (other !== primary) expect(other.store.has(key)).toBe(false);
    }
    expect(await client.mget(keys)).toEqual(keys.map((_, i) => ({ found: true, value: i })));
    // mget was split: each peer got only its own keys.
    for (const peer of trio) {
      const asked = peer.ops('mget').flatMap((frame) => frame.keys as string[]);
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((key) => ring.primary(key) === peer.id)).toBe(true);
    }
    await client.mset(keys.map((key) => ({ key, value: 'again' })));
    expect(keys.every((key) => byId.get(ring.primary(key)!)!.store.get(key)?.value === 'again')).toBe(true);
    // Non-key ops use the failover connection.
    await client.stats();
    expect(trio[0]!.ops('stats')).toHaveLength(1);
  });

  it('sends through a connected peer while a primary is unreachable, and follows ring changes', async () => {
    const trio = await threePeers();
    const [p1, p2, p3] = trio as [StandInPeer, StandInPeer, StandInPeer];
    const client = await connect(p1.url, { routing: 'ring' });
    const members: MemberEvent[] = [];
    client.on('member', (event) => members.push(event));
    const full = new HashRing(['p1', 'p2', 'p3'], { vnodes: VNODES, replicas: 1 });
    await waitFor(() => client.ringChecksum === full.checksum && p1.watchers.size === 1, 5000, 'the ring and the subscription');
    const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`);
    const ofP3 = keys.filter((key) => full.primary(key) === 'p3');
    expect(ofP3.length).toBeGreaterThan(0);
    await Promise.all(ofP3.map((key) => client.set(key, 'before')));
    expect(ofP3.every((key) => p3.store.has(key))).toBe(true);

    expect(client.connectedUrls.sort()).toEqual([p1.url, p3.url].sort());

    // p3 goes away; the client's ring still names it. Its keys go through p1 (which would forward).
    await p3.stop();
    await waitFor(() => !client.connectedUrls.includes(p3.url), 5000, 'the client to see p3 go');
    for (const key of ofP3) expect(await client.get(key)).toBeUndefined();
    expect(p1.ops('get').map((frame) => frame.key)).toEqual(expect.arrayContaining(ofP3));

    // p1 reports p3 dead: the client routes by the two-peer ring; member events stay private without watch().
    p1.push({ event: 'member', peer: { id: 'p3', url: p3.url, state: 'dead', incarnation: 0 }, state: 'dead' });
    const two = new HashRing(['p1', 'p2'], { vnodes: VNODES, replicas: 1 });
    await waitFor(() => client.ringChecksum === two.checksum, 5000, 'the two-peer ring');
    expect(members).toHaveLength(0);
    const p2Before = p2.ops('set').length;
    await Promise.all(keys.map((key) => client.set(key, 'after')));
    const toP2 = keys.filter((key) => two.primary(key) === 'p2');
    expect(p2.ops('set').length - p2Before).toBe(toP2.length);
    expect(toP2.every((key) => p2.store.get(key)?.value === 'after')).toBe(true);

    // unwatch() keeps the routing subscription: nothing is sent.
    await client.watch();
    await client.unwatch();
    expect(p1.ops('unwatch')).toHaveLength(0);
  });

  it('rejects a request written to a primary whose connection drops with UNAVAILABLE', async () => {
    const trio = await threePeers();
    const p3 = trio[2]!;
    const client = await connect(trio[0]!.url, { routing: 'ring' });
    const ring = new HashRing(['p1', 'p2', 'p3'], { vnodes: VNODES, replicas: 1 });
    await waitFor(() => client.ringChecksum === ring.checksum, 5000, 'the ring');
    const key = Array.from({ length: 100 }, (_, i) => `key:${i}`).find((k) => ring.primary(k) === 'p3')!;
    p3.intercept = (frame) => frame.key === key;
    const pending = client.get(key, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    await waitFor(() => p3.ops('get').length === 1, 5000, 'the request at p3');
    p3.dropConnections();
    expect(await pending).toMatchObject({ code: 'UNAVAILABLE' });
    // Meanwhile p3's keys go through p1; after the reconnect delay they reach p3 again, over a new connection.
    p3.intercept = undefined;
    await waitFor(async () => {
      await client.set(key, 'again');
      return p3.store.get(key)?.value === 'again';
    }, 5000, 'a write to reach p3 again');
  });

  it('sends the keys of a primary it cannot connect to through the failover connection', async () => {
    const trio = await threePeers();
    const p1 = trio[0]!;
    // The ring names a fourth peer nobody can reach (connection refused).
    const ids = ['p1', 'p2', 'p3', 'p4'];
    for (const peer of trio) {
      peer.ringPeers = [...peer.ringPeers, { id: 'p4', url: 'ws://127.0.0.1:1/', state: 'alive', incarnation: 0, ownership: 0.25 }];
      peer.ring = () => ({ epoch: 2, checksum: new HashRing(ids, { vnodes: VNODES, replicas: 1 }).checksum, replicas: 1, vnodes: VNODES, self: peer.id, peers: peer.ringPeers });
    }
    const client = await connect(p1.url, { routing: 'ring' });
    const ring = new HashRing(ids, { vnodes: VNODES, replicas: 1 });
    await waitFor(() => client.ringChecksum === ring.checksum, 5000, 'the four-peer ring');
    const ofP4 = Array.from({ length: 100 }, (_, i) => `key:${i}`).filter((key) => ring.primary(key) === 'p4');
    expect(ofP4.length).toBeGreaterThan(0);
    await Promise.all(ofP4.map((key) => client.set(key, 'via p1')));
    expect(ofP4.every((key) => p1.store.get(key)?.value === 'via p1')).toBe(true);
    expect(await client.mget(ofP4)).toEqual(ofP4.map(() => ({ found: true, value: 'via p1' })));
  });

  it('close() closes the direct connections too, leaving no socket', async () => {
    const trio = await threePeers();
    await waitFor(() => openSocketCount() === 0, 5000, 'earlier sockets to close');
    const client = await connect(trio[0]!.url, { routing: 'ring' });
    const ring = new HashRing(['p1', 'p2', 'p3'], { vnodes: VNODES, replicas: 1 });
    await waitFor(() => client.ringChecksum === ring.checksum, 5000, 'the ring');
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.set(`key:${i}`, i)));
    expect(client.connectedUrls).toHaveLength(3);
    await client.close();
    expect(client.connectedUrls).toEqual([]);
    await waitFor(() => trio.every((peer) => peer.sockets.size === 0), 5000, 'the peers to see the closes');
    await waitFor(() => openSocketCount() === 0, 5000, 'sockets to close');
  });

  it('rejects an unknown routing with BAD_CONFIG', () => {
    expect(() => new CacheClient('ws://127.0.0.1:1', { routing: 'nearest' as 'ring' })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});

describe('WebSocket implementation', () => {
  it('takes an injected constructor, else a global WebSocket, else ws', async () => {
    const injected = class {} as unknown as WebSocketConstructor;
    expect(await resolveWebSocket(injected)).toBe(injected);
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined(); // Node 20
    expect(await resolveWebSocket()).toBe(WebSocket);
    vi.stubGlobal('WebSocket', injected);
    try {
      expect(await resolveWebSocket()).toBe(injected);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('connects through an injected constructor', async () => {
    const peer = await startPeer();
    const opened: string[] = [];
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        opened.push(url);
      }
    }
    const client = await connect(peer.url, { WebSocket: CountingWebSocket as unknown as WebSocketConstructor });
    await client.set('k', 1);
    expect(opened).toEqual([peer.url]);
  });
});

describe('reconnectDelayMs', () => {
  it.each([
    // failures, base, max, random, expected
    [0, 100, 5000, 0.5, 50],
    [1, 100, 5000, 0.5, 100],
    [3, 100, 5000, 0.999, 799],
    [10, 100, 5000, 0.5, 2500],
    [1000, 100, 5000, 0.5, 2500],
    [2, 100, 5000, 0, 0],
  ])('failures=%i base=%i max=%i random=%f -> %i ms', (failures, base, max, random, expected) => {
    expect(reconnectDelayMs(failures, base, max, () => random)).toBe(expected);
  });
});
