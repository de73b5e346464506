/**
 * ClusterWatcher: a real client on real in-process peers feeding a ClusterView (joins, a stopped
 * peer going suspect then dead, a reconnection), and a client double under fake timers for the
 * poll loop's timeouts, stop() and swapClient().
 */
import { EventEmitter } from 'eventemitter3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheClient, type CacheClientEvents, type ClientStatus, type RingInfo } from '../../../src/client/cache-client.js';
import { ClusterView } from '../../../src/console/cluster-view.js';
import { ClusterWatcher, type WatchedClient } from '../../../src/console/cluster-watcher.js';
import { testPeerConfig } from '../../../src/config.js';
import { CacheError } from '../../../src/errors.js';
import { Peer } from '../../../src/peer.js';
import { startInProcessCluster } from '../../support/in-process-cluster.js';
import { waitFor } from '../../support/wait-for.js';

const base = testPeerConfig();

function texts(view: ClusterView): string[] {
  return view.state.events.map((event) => event.text);
}

describe('ClusterWatcher on real peers', () => {
  it('shows the ring, stats, a join with its rebalance, and a stopped peer going suspect then dead', async () => {
    const peers: Peer[] = [];
    let client: CacheClient | undefined;
    let watcher: ClusterWatcher | undefined;
    try {
      peers.push(...(await startInProcessCluster(['p1', 'p2', 'p3'], base)));
      const [p1, , p3] = peers as [Peer, Peer, Peer];
      client = await CacheClient.connect(p1.advertisedUrl);
      await client.mset(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: i })));

      const view = new ClusterView({ stripWidth: 32 });
      const rings: RingInfo[] = [];
      watcher = new ClusterWatcher({ client, view, pollMs: 200, onRing: (ring) => rings.push(ring) });
      await watcher.start();
      expect(watcher.started).toBe(true);
      expect(view.state.connection).toBe('connected');
      expect(view.state.url).toBe(p1.advertisedUrl);
      expect(texts(view)[0]).toBe(`connected to ${p1.advertisedUrl}`);
      expect(rings.length).toBeGreaterThan(0);
      expect(view.state.peers.map((p) => [p.id, p.state, p.connected])).toEqual([
        ['p1', 'alive', true],
        ['p2', 'alive', false],
        ['p3', 'alive', false],
      ]);
      expect(new Set(view.state.strip)).toEqual(new Set(['p1', 'p2', 'p3']));
      await waitFor(() => view.state.peers.every((p) => p.keys !== undefined && p.opsPerSec !== undefined), 3000, 'two stats polls');
      expect(view.state.peers.reduce((sum, p) => sum + p.keys!, 0)).toBe(600); // 300 keys, 2 replicas

      const p4 = await Peer.start({ id: 'p4', bootstrap: [p1.advertisedUrl] }, { base });
      peers.push(p4);
      await waitFor(() => texts(view).some((text) => /^p4 joined: \d+\.\d% of the ring moves to p4$/.test(text)), 5000, 'the join of p4');
      expect(view.state.strip).toContain('p4');
      await waitFor(() => texts(view).some((text) => /^rebalance to p4 done: [\d,]+ keys in \d+\.\d s$/.test(text)), 5000, 'the rebalance to p4');

      await p3.stop();
      await waitFor(() => texts(view).includes('p3 suspect'), 3000, 'p3 suspect');
      const dead = await waitFor(() => view.state.events.find((event) => event.text.startsWith('p3 dead')), 3000, 'p3 dead');
      expect(dead.text).toMatch(/^p3 dead after \d+\.\d s$/);
      expect(dead.level).toBe('error');
      expect(view.state.events.find((event) => event.text === 'p3 suspect')!.level).toBe('warn');
      await waitFor(() => view.state.peers.find((p) => p.id === 'p3')?.state === 'dead', 3000, 'the p3 row dead');
      expect(view.state.strip).not.toContain('p3');
    } finally {
      watcher?.stop();
      await client?.close();
      await Promise.all(peers.map((p) => p.stop()));
    }
  });

  it('reports a lost connection and the reconnection to another peer, and fetches its ring', async () => {
    const peers: Peer[] = [];
    let client: CacheClient | undefined;
    let watcher: ClusterWatcher | undefined;
    try {
      peers.push(...(await startInProcessCluster(['p1', 'p2'], base)));
      const [p1, p2] = peers as [Peer, Peer];
      client = await CacheClient.connect([p1.advertisedUrl, p2.advertisedUrl], { reconnectBaseMs: 20, reconnectMaxMs: 100, timeoutMs: 1000 });
      const view = new ClusterView();
      watcher = new ClusterWatcher({ client, view, pollMs: 200 });
      await watcher.start();
      await p1.stop();
      await waitFor(() => texts(view).includes('connection lost: reconnecting'), 3000, 'the loss');
      await waitFor(() => texts(view).includes(`reconnected to ${p2.advertisedUrl}`), 5000, 'the reconnection');
      await waitFor(() => view.state.peers.find((p) => p.connected)?.id === 'p2', 3000, 'the ring of p2');
      expect(view.state.connection).toBe('connected');
      expect(view.state.events.find((event) => event.text === 'connection lost: reconnecting')!.level).toBe('warn');
    } finally {
      watcher?.stop();
      await client?.close();
      await Promise.all(peers.map((p) => p.stop()));
    }
  });
});

/** A client double: an emitter with counted calls; `clusterStats` honours its deadline like the real client. */
class FakeClient extends EventEmitter<CacheClientEvents> {
  status: ClientStatus = 'connected';
  url: string | undefined;
  polls = 0;
  timeouts: number[] = [];
  /** When false, clusterStats never answers (only its deadline ends it). */
  answering = true;

  constructor(url: string, private readonly id: string) {
    super();
    this.url = url;
  }

  async watch(): Promise<void> {}

  async ring(): Promise<RingInfo> {
    return { epoch: 1, checksum: 'c', replicas: 1, vnodes: 4, self: this.id, peers: [{ id: this.id, url: this.url!, state: 'alive', incarnation: 0, ownership: 1 }] };
  }

  clusterStats(options: { timeoutMs?: number } = {}): Promise<Record<string, Record<string, unknown>>> {
    this.polls++;
    this.timeouts.push(options.timeoutMs ?? -1);
    if (this.answering) return Promise.resolve({ [this.id]: { keys: this.polls, coordinator: { requests: this.polls * 10 } } });
    return new Promise((_, reject) => setTimeout(() => reject(new CacheError('TIMEOUT', 'cluster-stats: no reply')), options.timeoutMs));
  }
}

describe('ClusterWatcher poll loop (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls every period with a deadline below it; a hung poll times out and the next one comes', async () => {
    vi.useFakeTimers();
    const client = new FakeClient('ws://h:1/', 'a');
    const view = new ClusterView({ now: Date.now });
    const watcher = new ClusterWatcher({ client: client as unknown as WatchedClient, view, pollMs: 1000 });
    await watcher.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.polls).toBe(1);
    expect(client.timeouts).toEqual([800]);
    expect(view.state.peers[0]).toMatchObject({ id: 'a', keys: 1, connected: true });
    const firstAt = view.state.statsAt!;
    client.answering = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.polls).toBe(2);
    await vi.advanceTimersByTimeAsync(800); // the deadline passes: nothing changes, the view is not stuck
    expect(view.state.statsAt).toBe(firstAt);
    expect(view.state.connection).toBe('connected');
    client.answering = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(client.polls).toBe(3);
    expect(view.state.statsAt).toBeGreaterThan(firstAt);
    watcher.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(client.polls).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
    expect(client.listenerCount('member') + client.listenerCount('ring') + client.listenerCount('connect')).toBe(0);
  });

  it('swapClient leaves the old client and watches the new one', async () => {
    vi.useFakeTimers();
    const a = new FakeClient('ws://h:1/', 'a');
    const b = new FakeClient('ws://h:2/', 'b');
    const view = new ClusterView({ now: Date.now });
    const watcher = new ClusterWatcher({ client: a as unknown as WatchedClient, view, pollMs: 500 });
    await watcher.start();
    await vi.advanceTimersByTimeAsync(0);
    await watcher.swapClient(b as unknown as WatchedClient);
    await vi.advanceTimersByTimeAsync(0);
    expect(view.state.peers.map((p) => p.id)).toEqual(['b']);
    expect(view.state.events.map((e) => e.text)).toEqual(['connected to ws://h:1', 'connected to ws://h:2']);
    expect(a.listenerCount('member')).toBe(0);
    a.emit('member', { peer: { id: 'zz', url: 'ws://h:9', state: 'dead', incarnation: 0 }, state: 'dead' });
    expect(view.state.events).toHaveLength(2);
    b.emit('member', { peer: { id: 'b', url: 'ws://h:2', state: 'suspect', incarnation: 0 }, state: 'suspect' });
    expect(view.state.events.at(-1)!.text).toBe('b suspect');
    const pollsOfA = a.polls;
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.polls).toBe(pollsOfA);
    expect(b.polls).toBeGreaterThanOrEqual(4);
    b.status = 'reconnecting';
    b.emit('status', { from: 'connected', to: 'reconnecting' });
    b.emit('disconnect', { url: 'ws://h:2/', code: 1006, reason: '' });
    expect(view.state.connection).toBe('reconnecting');
    b.status = 'connected';
    b.emit('connect', { url: 'ws://h:2/' });
    expect(view.state.events.map((e) => e.text).slice(-2)).toEqual(['connection lost: reconnecting', 'reconnected to ws://h:2']);
    watcher.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a poll deadline that is not below the period', () => {
    const client = new FakeClient('ws://h:1/', 'a') as unknown as WatchedClient;
    expect(() => new ClusterWatcher({ client, view: new ClusterView(), pollMs: 500, pollTimeoutMs: 500 })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});
