/**
 * `routing: 'ring'` against real in-process peers: every key goes straight to its primary (the
 * peers forward nothing), and through a join and the crash of a peer every call either succeeds
 * or fails with a typed error, after which the client routes by the new ring again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { CacheError, isErrorCode } from '../../src/errors.js';
import { Peer } from '../../src/peer.js';
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

  it('through a join and a crash every call succeeds or fails typed; then it routes by the new ring', async () => {
    const a = await startPeer('a');
    const b = await startPeer('b', a);
    const c = await startPeer('c', a);
    const client = await CacheClient.connect([a.advertisedUrl, b.advertisedUrl], { routing: 'ring', timeoutMs: 3000 });
    clients.push(client);
    await ringsAgree(client, [a, b, c], 3);

    // Load: 8 workers, each writing and reading its own keys until told to stop (bounded in count and time).
    let running = true;
    let succeeded = 0;
    const failures: unknown[] = [];
    const deadline = Date.now() + 30_000;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; running && i < 20_000 && Date.now() < deadline; i++) {
        const key = `load:${w}:${i % 50}`;
        try {
          await client.set(key, i);
          await client.get(key);
          succeeded++;
        } catch (error) {
          failures.push(error);
        }
      }
    });
    try {
      await waitFor(() => succeeded > 200, 10_000, 'load to flow');
      const d = await startPeer('d', b);
      await ringsAgree(client, [a, b, c, d], 4);
      const afterJoin = succeeded;
      await waitFor(() => succeeded > afterJoin + 200, 10_000, 'load to flow on the four-peer ring');

      // A crash, as far as the others can tell: c's sockets drop, with no leave announcement.
      await c.stop();
      peers.splice(peers.indexOf(c), 1);
      await ringsAgree(client, [a, b, d], 3);
      const afterCrash = succeeded;
      await waitFor(() => succeeded > afterCrash + 200, 10_000, 'load to flow after the crash');
    } finally {
      running = false;
      await Promise.all(workers);
    }
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(CacheError);
      expect(isErrorCode((failure as CacheError).code)).toBe(true);
      expect(['UNAVAILABLE', 'TIMEOUT']).toContain((failure as CacheError).code);
    }

    // Settled on the new ring: straight to the primaries again.
    const live = peers.filter((peer) => peer.id !== 'c');
    const before = live.map(forwarded);
    await writeAndRead(client, 'after', 600);
    expect(live.map(forwarded)).toEqual(before);
    expect(client.connectedUrls.sort()).toEqual(live.map((peer) => new URL(peer.advertisedUrl).href).sort());
  });
});
