/**
 * `routing: 'ring'` against real peers: every key goes straight to its primary (the peers forward
 * nothing), and through a join and a kill -9 of a peer process every call either succeeds or
 * fails with a typed error, after which the client routes by the new ring again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { CacheError, isErrorCode } from '../../src/errors.js';
import { Peer } from '../../src/peer.js';
import { FAST_FLAGS, killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { waitFor } from '../support/wait-for.js';

const base = testPeerConfig();
const peers: Peer[] = [];
const clients: CacheClient[] = [];

async function startPeer(id: string, bootstrap?: Peer): Promise<Peer> {
  const peer = await Peer.start({ id, ...(bootstrap ? { bootstrap: [bootstrap.advertisedUrl] } : {}) }, { base });
  peers.push(peer);
  return peer;
}

/** Requests each peer forwarded to another peer since it started (coordinator stats). */
function forwarded(peer: Peer): number {
  return (peer.stats().coordinator as { forwarded: number }).forwarded;
}

/** Key operations each peer executed as owner since it started. */
function owned(peer: Peer): number {
  return (peer.stats().coordinator as { ownedOps: number }).ownedOps;
}

/** Waits until every given peer and the client route by the same ring of `size` peers. */
async function ringsAgree(client: CacheClient, live: Peer[], size: number): Promise<void> {
  await waitFor(
    () => live.every((peer) => peer.ring.size === size && peer.ring.checksum === live[0]!.ring.checksum) && client.ringChecksum === live[0]!.ring.checksum,
    10_000,
    `the peers and the client to agree on a ${size}-peer ring`,
  );
}

/** Writes then reads `count` keys (`prefix:i` -> i) in bursts of 100 and checks every value. */
async function writeAndRead(client: CacheClient, prefix: string, count: number): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}:${i}`);
  for (let start = 0; start < count; start += 100) {
    await Promise.all(keys.slice(start, start + 100).map((key, j) => client.set(key, start + j)));
  }
  for (let start = 0; start < count; start += 100) {
    const values = await Promise.all(keys.slice(start, start + 100).map((key) => client.get(key)));
    expect(values).toEqual(keys.slice(start, start + 100).map((_, j) => start + j));
  }
  const entries = await client.mget(keys.slice(0, 200));
  expect(entries).toEqual(keys.slice(0, 200).map((_, i) => ({ found: true, value: i })));
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
});

describe('CacheClient with routing ring', () => {
  it('sends every key to its primary: no peer forwards anything', async () => {
    const a = await startPeer('a');
    const b = await startPeer('b', a);
    const c = await startPeer('c', a);
    const client = await CacheClient.connect(a.advertisedUrl, { routing: 'ring' });
    clients.push(client);
    await ringsAgree(client, [a, b, c], 3);

    const forwardedBefore = [a, b, c].map(forwarded);
    const ownedBefore = [a, b, c].map(owned);
    await writeAndRead(client, 'user', 600);
    expect([a, b, c].map(forwarded)).toEqual(forwardedBefore);
    // Each peer served its own share directly.
    [a, b, c].forEach((peer, i) => expect(owned(peer) - ownedBefore[i]!).toBeGreaterThan(100));
    expect(client.connectedUrls).toHaveLength(3);

    // The same run with routing 'peer' through a: a forwards about two thirds of the keys.
    const viaA = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
    clients.push(viaA);
    const aBefore = forwarded(a);
    await writeAndRead(viaA, 'other', 300);
    expect(forwarded(a) - aBefore).toBeGreaterThan(300);
  });

  it('through a join and a kill -9 every call succeeds or fails typed; then it routes by the new ring', async () => {
    const procs: PeerProcess[] = [];
    const observers = new Map<string, CacheClient>();
    /** One routing-'peer' client per peer process, to read its own stats. */
    const statsOf = async (peer: PeerProcess): Promise<{ ring: { checksum: string; size: number }; coordinator: { forwarded: number } }> => {
      let observer = observers.get(peer.id);
      if (!observer) {
        observer = await CacheClient.connect(peer.url, { discoverPeers: false });
        observers.set(peer.id, observer);
      }
      return (await observer.stats()) as never;
    };
    const agree = async (client: CacheClient, live: PeerProcess[]): Promise<void> => {
      await waitFor(async () => {
        const rings = await Promise.all(live.map(async (peer) => (await statsOf(peer)).ring));
        return rings.every((ring) => ring.size === live.length && ring.checksum === client.ringChecksum);
      }, 15_000, `the peers and the client to agree on a ${live.length}-peer ring`);
    };
    let client: CacheClient | undefined;
    let running = true;
    let workers: Array<Promise<void>> = [];
    try {
      procs.push(await startPeerProcess(['--id', 'a', ...FAST_FLAGS]));
      procs.push(await startPeerProcess(['--id', 'b', '--bootstrap', procs[0]!.url, ...FAST_FLAGS]));
      procs.push(await startPeerProcess(['--id', 'c', '--bootstrap', procs[0]!.url, ...FAST_FLAGS]));
      client = await CacheClient.connect([procs[0]!.url, procs[1]!.url], { routing: 'ring', timeoutMs: 3000 });
      await agree(client, procs);

      // Load: 8 workers, each writing and reading its own keys until told to stop (bounded in count and time).
      let succeeded = 0;
      const failures: unknown[] = [];
      const deadline = Date.now() + 40_000;
      const loaded = client;
      workers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; running && i < 50_000 && Date.now() < deadline; i++) {
          const key = `load:${w}:${i % 50}`;
          try {
            await loaded.set(key, i);
            await loaded.get(key);
            succeeded++;
          } catch (error) {
            failures.push(error);
          }
        }
      });
      await waitFor(() => succeeded > 200, 10_000, 'load to flow');
      procs.push(await startPeerProcess(['--id', 'd', '--bootstrap', procs[1]!.url, ...FAST_FLAGS]));
      await agree(client, procs);
      const afterJoin = succeeded;
      await waitFor(() => succeeded > afterJoin + 200, 10_000, 'load to flow on the four-peer ring');

      const victim = procs.splice(2, 1)[0]!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      await agree(client, procs);
      const afterKill = succeeded;
      await waitFor(() => succeeded > afterKill + 200, 10_000, 'load to flow after the kill');
      running = false;
      await Promise.all(workers);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(CacheError);
        expect(isErrorCode((failure as CacheError).code)).toBe(true);
        expect(['UNAVAILABLE', 'TIMEOUT']).toContain((failure as CacheError).code);
      }

      // Settled on the new ring: straight to the primaries again.
      const before = await Promise.all(procs.map(async (peer) => (await statsOf(peer)).coordinator.forwarded));
      await writeAndRead(client, 'after', 600);
      const after = await Promise.all(procs.map(async (peer) => (await statsOf(peer)).coordinator.forwarded));
      expect(after).toEqual(before);
      expect(client.connectedUrls.sort()).toEqual(procs.map((peer) => new URL(peer.url).href).sort());
    } finally {
      running = false;
      await Promise.all(workers);
      await Promise.all([client, ...observers.values()].map((c) => c?.close()));
      await killAll(procs);
    }
  });
});
