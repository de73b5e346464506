/**
 * In-process peers (Peer.start with the test preset): a restarted peer with the same id rejoins
 * and gets its data back, a rejected join, and a stopped peer leaves no handles open.
 */
import { describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { startInProcessCluster } from '../support/in-process-cluster.js';
import { waitFor } from '../support/wait-for.js';

const base = testPeerConfig();

function activeHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap' && kind !== 'Timeout' && kind !== 'Immediate').length;
}

describe('in-process peers', () => {
  it('a peer restarted with the same id rejoins and is refilled with its share', async () => {
    const [a, b, c] = (await startInProcessCluster(['a', 'b', 'c'], base)) as [Peer, Peer, Peer];
    const client = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
    try {
      await client.mset(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: i })));
      const heldByC = c.store.liveCount;
      expect(heldByC).toBeGreaterThan(0);
      const port = c.port;
      await c.stop(); // a crash, as far as the others can tell: no leave announcement
      const c2 = await Peer.start({ id: 'c', port, bootstrap: [b.advertisedUrl] }, { base });
      try {
        await waitFor(() => a.members.get('c')?.generation === c2.members.self.generation && a.members.get('c')?.state === 'alive', 5000, 'a to see the new c alive');
        await waitFor(() => c2.store.liveCount === heldByC, 10_000, 'c to get its entries back');
        const values = await client.mget(Array.from({ length: 300 }, (_, i) => `k${i}`));
        expect(values.every((v, i) => v.found && v.value === i)).toBe(true);
      } finally {
        await c2.stop();
      }
    } finally {
      await client.close();
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  it('a graceful leave with replicas 1 hands every entry to its new owner', async () => {
    const cfg = { ...base, replicas: 1 };
    const [a, b, c] = (await startInProcessCluster(['a', 'b', 'c'], cfg)) as [Peer, Peer, Peer];
    const client = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
    try {
      await client.mset(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: i })));
      expect(b.store.liveCount).toBeGreaterThan(0);
      const report = await b.leave();
      expect(report?.complete).toBe(true);
      await waitFor(() => a.ring.size === 2 && c.ring.size === 2, 3000, 'b out of the ring');
      const values = await client.mget(Array.from({ length: 300 }, (_, i) => `k${i}`));
      expect(values.filter((v, i) => !(v.found && v.value === i))).toEqual([]);
      expect(a.store.liveCount + c.store.liveCount).toBe(300);
    } finally {
      await client.close();
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  it('reports every member\'s stats through one peer and pushes rebalance events to watchers', async () => {
    const a = await Peer.start({ id: 'a' }, { base });
    const b = await Peer.start({ id: 'b', bootstrap: [a.advertisedUrl] }, { base });
    const client = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
    let c: Peer | undefined;
    try {
      await client.mset(Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: i })));
      const phases: string[] = [];
      client.on('rebalance', (event) => phases.push(`${event.peer}:${event.phase}`));
      await client.watch();
      c = await Peer.start({ id: 'c', bootstrap: [b.advertisedUrl] }, { base });
      await waitFor(() => phases.includes('a:done'), 5000, 'a rebalance done event from a');
      const stats = await client.clusterStats();
      await waitFor(async () => Object.keys(await client.clusterStats()).sort().join() === 'a,b,c', 3000, 'stats of all three');
      expect(Object.keys(stats).length).toBeGreaterThanOrEqual(2);
      const all = await client.clusterStats();
      const total = Object.values(all).reduce((sum, s) => sum + (s.keys as number), 0);
      expect(total).toBeGreaterThanOrEqual(400);
      await c.stop();
      const afterStop = await waitFor(async () => {
        const current = await client.clusterStats();
        return 'error' in (current.c ?? {}) || current.c === undefined ? current : undefined;
      }, 5000, 'c to report an error or leave the ring');
      expect(afterStop.a).toHaveProperty('keys');
    } finally {
      await client.close();
      await Promise.all([a.stop(), b.stop(), c?.stop()]);
    }
  });

  it('with --eviction none a full peer refuses writes with OUT_OF_MEMORY and keeps what it has', async () => {
    const a = await Peer.start({ id: 'a', eviction: 'none', maxMemory: 64 * 1024 }, { base });
    const client = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
    try {
      let stored = 0;
      let refusal: unknown;
      for (let i = 0; i < 1000 && !refusal; i++) {
        try {
          await client.set(`k${i}`, 'x'.repeat(200));
          stored++;
        } catch (error) {
          refusal = error;
        }
      }
      expect(refusal).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(stored).toBeGreaterThan(10);
      expect(a.store.stats()).toMatchObject({ evictions: 0 });
      expect(await client.get('k0')).toBe('x'.repeat(200));
      expect(a.stats()).toMatchObject({ store: { bytes: expect.any(Number) } });
      expect(a.store.bytes).toBeLessThanOrEqual(64 * 1024);
    } finally {
      await client.close();
      await a.stop();
    }
  });

  it('refuses a peer whose placement parameters differ', async () => {
    const a = await Peer.start({ id: 'a' }, { base });
    try {
      await expect(Peer.start({ id: 'z', vnodes: 16, bootstrap: [a.advertisedUrl] }, { base, joinTimeoutMs: 300 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(a.members.get('z')).toBeUndefined();
    } finally {
      await a.stop();
    }
  });

  it('refuses to start with a bad config, and a join that cannot reach its bootstrap times out cleanly', async () => {
    await expect(Peer.start({ replicas: 0 }, { base })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    await expect(Peer.start({ bootstrap: ['ws://127.0.0.1:1'] }, { base, joinTimeoutMs: 300 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a stopped peer leaves no sockets or servers open', async () => {
    const before = activeHandles();
    const a = await Peer.start({ id: 'x' }, { base });
    const b = await Peer.start({ id: 'y', bootstrap: [a.advertisedUrl] }, { base });
    const client = await CacheClient.connect(b.advertisedUrl, { discoverPeers: false });
    await client.set('k', 1);
    await client.close();
    await b.leave();
    await a.stop();
    await waitFor(() => activeHandles() <= before, 3000, 'handles to close');
  });

  it('a whole cluster leaving at once does not sit out the leave deadline', async () => {
    const cfg = { ...base, leaveTimeoutMs: 60_000 };
    const [a, b, c] = (await startInProcessCluster(['a', 'b', 'c'], cfg)) as [Peer, Peer, Peer];
    const client = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
    await client.mset(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: i })));
    await client.close();
    let left = 0;
    const leaves = [a, b, c].map((p) => p.leave().then(() => left++));
    // Nobody is left to take the entries: each leave ends once the others are gone, long before its 60 s deadline.
    await waitFor(() => left === 3, 10_000, 'every leave to finish');
    await Promise.all(leaves);
  });
});
