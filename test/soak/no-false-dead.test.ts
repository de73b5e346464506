/**
 * Soak: three real peer processes at DEFAULT timings under sustained load from this process for
 * 60 s (RINGCACHE_SOAK_MS to change). No member may ever be declared dead, and every
 * acknowledged write must read back. Runs only with RINGCACHE_SOAK=1 (`npm run test:soak`):
 * it saturates both cores of the CI machine on purpose.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { waitFor } from '../support/wait-for.js';

const enabled = process.env.RINGCACHE_SOAK === '1';
const durationMs = Number(process.env.RINGCACHE_SOAK_MS ?? 60_000);
const IN_FLIGHT_PER_CLIENT = 32;
const KEY_SPACE = 300;

describe.skipIf(!enabled)('soak: no false dead under load at default timings', () => {
  const peers: PeerProcess[] = [];
  const clients: CacheClient[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await killAll(peers);
  });

  it(`runs ${durationMs} ms of load without a dead or left member`, { timeout: durationMs + 60_000 }, async () => {
    peers.push(await startPeerProcess(['--id', 's1']));
    peers.push(await startPeerProcess(['--id', 's2', '--bootstrap', peers[0]!.url]));
    peers.push(await startPeerProcess(['--id', 's3', '--bootstrap', peers[0]!.url]));
    for (const peer of peers) clients.push(await CacheClient.connect(peer.url, { discoverPeers: false, timeoutMs: 10_000 }));
    await waitFor(async () => (await clients[0]!.ring()).peers.filter((p) => p.state === 'alive').length === 3, 5000, 'three alive peers');

    const watcher = await CacheClient.connect(peers[0]!.url, { discoverPeers: false });
    clients.push(watcher);
    const stateEvents: string[] = [];
    watcher.on('member', (event) => stateEvents.push(`${event.peer.id}:${event.state}`));
    await watcher.watch();

    const value = 'v'.repeat(100);
    const written = new Map<string, number>();
    let ops = 0;
    let errors = 0;
    const until = Date.now() + durationMs;
    const worker = async (client: CacheClient, seed: number): Promise<void> => {
      let i = seed;
      while (Date.now() < until) {
        i = (i * 1103515245 + 12345) % 2147483648;
        // each worker owns its keys, so the last acknowledged write of a key is its final value
        const key = `soak:${seed}:${i % KEY_SPACE}`;
        try {
          if (i % 4 === 0) {
            const stamp = ops;
            await client.set(key, { value, stamp });
            written.set(key, stamp);
          } else await client.get(key);
          ops++;
        } catch {
          errors++;
        }
      }
    };
    const started = Date.now();
    await Promise.all(clients.slice(0, 3).flatMap((client, c) => Array.from({ length: IN_FLIGHT_PER_CLIENT }, (_, w) => worker(client, c * 1000 + w + 1))));
    const seconds = (Date.now() - started) / 1000;
    console.log(`soak: ${ops} ops in ${seconds.toFixed(1)} s (${Math.round(ops / seconds)} ops/s), ${errors} errors, member events: ${stateEvents.join(' ') || 'none'}`);

    expect(stateEvents.filter((e) => e.endsWith(':dead') || e.endsWith(':left'))).toEqual([]);
    const ring = await clients[1]!.ring();
    expect(ring.peers.map((p) => p.state)).toEqual(['alive', 'alive', 'alive']);
    // every key whose last write was acknowledged reads back the last acknowledged stamp (or a later one)
    let checked = 0;
    for (const [key, stamp] of written) {
      if (checked++ >= 2000) break;
      const got = await clients[2]!.get<{ stamp: number }>(key);
      expect(got?.stamp).toBeGreaterThanOrEqual(stamp);
    }
    expect(errors).toBe(0);
  });
});
