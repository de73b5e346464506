/**
 * The promise of replicas 2: kill -9 of any one of three peers in the middle of a write load
 * loses no acknowledged write. Writes that fail during the detection window are not
 * acknowledged and promise nothing; every write that was acknowledged must read back, and once
 * the ring has settled every key must have two copies again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { FAST_FLAGS, killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { waitFor } from '../support/wait-for.js';

const WRITERS = 8;
const LOAD_MS = 4000;
const KILL_AT_MS = 1500;

describe('kill -9 under write load', () => {
  const peers: PeerProcess[] = [];
  const clients: CacheClient[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await killAll(peers);
  });

  it('loses no acknowledged write and restores two copies', async () => {
    peers.push(await startPeerProcess(['--id', 'k1', ...FAST_FLAGS]));
    peers.push(await startPeerProcess(['--id', 'k2', '--bootstrap', peers[0]!.url, ...FAST_FLAGS]));
    peers.push(await startPeerProcess(['--id', 'k3', '--bootstrap', peers[0]!.url, ...FAST_FLAGS]));
    // the writers talk to the two peers that survive; the victim is k3
    for (const peer of peers.slice(0, 2)) clients.push(await CacheClient.connect(peer.url, { discoverPeers: false, timeoutMs: 3000 }));
    await waitFor(async () => (await clients[0]!.ring()).peers.filter((p) => p.state === 'alive').length === 3, 5000, 'three alive peers');

    const acknowledged = new Map<string, number>();
    let failed = 0;
    const started = Date.now();
    const writer = async (w: number): Promise<void> => {
      const client = clients[w % clients.length]!;
      for (let i = 0; Date.now() - started < LOAD_MS && i < 100_000; i++) {
        const key = `w${w}:${i}`;
        try {
          await client.set(key, { w, i });
          acknowledged.set(key, i);
        } catch {
          failed++;
        }
      }
    };
    const killer = (async () => {
      await waitFor(() => Date.now() - started >= KILL_AT_MS, KILL_AT_MS + 1000, 'the kill time');
      peers[2]!.child.kill('SIGKILL');
      await peers[2]!.exited;
    })();
    await Promise.all([...Array.from({ length: WRITERS }, (_, w) => writer(w)), killer]);
    expect(acknowledged.size).toBeGreaterThan(500);
    console.log(`kill under load: ${acknowledged.size} writes acknowledged, ${failed} not acknowledged`);

    await waitFor(async () => (await clients[0]!.ring()).peers.find((p) => p.id === 'k3')?.state === 'dead', 5000, 'k3 dead');
    const keys = [...acknowledged.keys()];
    const lost: string[] = [];
    for (let start = 0; start < keys.length; start += 500) {
      const slice = keys.slice(start, start + 500);
      const values = await clients[1]!.mget<{ i: number }>(slice);
      values.forEach((v, j) => {
        if (!v.found || v.value?.i !== acknowledged.get(slice[j]!)) lost.push(slice[j]!);
      });
    }
    expect(lost).toEqual([]);
    // settled: both survivors hold every key (replicas 2 on two peers)
    const localKeys = async (url: string): Promise<number> => {
      const c = await CacheClient.connect(url, { discoverPeers: false });
      try {
        return (await c.stats()).keys as number;
      } finally {
        await c.close();
      }
    };
    await waitFor(async () => (await localKeys(peers[0]!.url)) >= keys.length && (await localKeys(peers[1]!.url)) >= keys.length, 15_000, 'two copies of every acknowledged key');
  });
});
