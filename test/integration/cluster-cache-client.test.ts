/**
 * The core acceptance run again, through `CacheClient` (our library) against real peer
 * processes: every op, watch events, kill -9 with failover of the client itself, a joining
 * fourth peer, and a graceful leave.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { CacheError } from '../../src/errors.js';
import { FAST_FLAGS, killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { waitFor } from '../support/wait-for.js';

const KEYS = 1000;
const keyOf = (i: number): string => `user:${i}`;

async function readAll(client: CacheClient): Promise<number> {
  let found = 0;
  for (let start = 0; start < KEYS; start += 200) {
    const keys = Array.from({ length: 200 }, (_, j) => keyOf(start + j));
    const values = await client.mget<{ id: number }>(keys);
    values.forEach((entry, j) => {
      if (entry.found) {
        expect(entry.value).toEqual({ id: start + j });
        found++;
      }
    });
  }
  return found;
}

async function localKeys(url: string): Promise<number> {
  const client = await CacheClient.connect(url, { discoverPeers: false });
  try {
    return (await client.stats()).keys as number;
  } finally {
    await client.close();
  }
}

describe('CacheClient against a cluster of real peer processes', () => {
  const peers: PeerProcess[] = [];
  const clients: CacheClient[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await killAll(peers);
  });

  it('runs every operation across three peers', async () => {
    peers.push(await startPeerProcess(['--id', 'a', ...FAST_FLAGS]));
    peers.push(await startPeerProcess(['--id', 'b', '--bootstrap', peers[0]!.url, ...FAST_FLAGS]));
    peers.push(await startPeerProcess(['--id', 'c', '--bootstrap', peers[1]!.url, ...FAST_FLAGS]));
    const client = await CacheClient.connect(peers.map((p) => p.url));
    clients.push(client);
    await waitFor(async () => (await client.ring()).peers.filter((p) => p.state === 'alive').length === 3, 5000, 'three alive peers');

    await client.mset(Array.from({ length: KEYS }, (_, i) => ({ key: keyOf(i), value: { id: i } })));
    expect(await readAll(client)).toBe(KEYS);

    await client.set('greeting', 'hello', { ttl: 60_000 });
    expect(await client.get('greeting')).toBe('hello');
    const ttl = await client.ttl('greeting');
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await client.ttl('no-such-key')).toBe(-2);
    await client.set('forever', [1, 2, 3]);
    expect(await client.ttl('forever')).toBe(-1);
    expect(await client.expire('forever', 30_000)).toBe(true);
    expect(await client.ttl('forever')).toBeGreaterThan(20_000);
    expect(await client.expire('no-such-key', 1000)).toBe(false);

    expect(await client.incr('counter')).toBe(1);
    expect(await client.incr('counter', 41)).toBe(42);
    expect(await client.incr('counter', -2)).toBe(40);
    await expect(client.incr('greeting')).rejects.toMatchObject({ code: 'NOT_A_NUMBER' });

    expect(await client.del('greeting')).toBe(true);
    expect(await client.del('greeting')).toBe(false);
    expect(await client.get('greeting')).toBeUndefined();

    await client.set('short', 1, { ttl: 50 });
    await waitFor(async () => (await client.getEntry('short')).found === false, 3000, 'the 50 ms key to expire');
    expect(await client.ttl('short')).toBe(-2);
  });

  it('keeps incr atomic under concurrency from several peers', async () => {
    const viaEach = await Promise.all(peers.map((p) => CacheClient.connect(p.url, { discoverPeers: false })));
    clients.push(...viaEach);
    const rounds = 100;
    await Promise.all(viaEach.flatMap((c) => Array.from({ length: rounds }, () => c.incr('hits'))));
    expect(await viaEach[0]!.get('hits')).toBe(rounds * viaEach.length);
  });

  it('pushes member and ring events to a watcher, and fails over when its peer is killed', async () => {
    const watcher = await CacheClient.connect([peers[2]!.url, peers[0]!.url]);
    clients.push(watcher);
    const events: Array<{ id: string; state: string }> = [];
    watcher.on('member', (event) => events.push({ id: event.peer.id, state: event.state }));
    let ringEvents = 0;
    watcher.on('ring', () => ringEvents++);
    await watcher.watch();

    // kill -9 the peer the watcher is NOT connected to: it sees suspect then dead
    peers[1]!.child.kill('SIGKILL');
    await peers[1]!.exited;
    await waitFor(() => events.some((e) => e.id === 'b' && e.state === 'dead'), 5000, 'a dead event for b');
    expect(ringEvents).toBeGreaterThan(0);
    expect(await readAll(watcher)).toBe(KEYS);

    // kill -9 the peer it IS connected to: pending calls fail UNAVAILABLE, then it fails over to a
    const disconnected = new Promise((resolve) => watcher.once('disconnect', resolve));
    peers[2]!.child.kill('SIGKILL');
    await peers[2]!.exited;
    await disconnected;
    await waitFor(async () => (await watcher.ring()).peers.filter((p) => p.state === 'alive').length === 1, 5000, 'the survivor alone in the ring');
    expect(watcher.url).toBe(new URL(peers[0]!.url).href);
    // replicas 2 and two of three peers dead: keys whose both copies were on b and c are gone,
    // but everything a held is still served
    const found = await readAll(watcher);
    expect(found).toBeGreaterThan(0);
  });

  it('a new peer joins through the survivor and takes its share; a leaving peer hands off', async () => {
    const client = clients[0]!;
    await client.mset(Array.from({ length: KEYS }, (_, i) => ({ key: keyOf(i), value: { id: i } })));
    const d = await startPeerProcess(['--id', 'd', '--bootstrap', peers[0]!.url, ...FAST_FLAGS]);
    peers.push(d);
    await waitFor(async () => (await localKeys(d.url)) > KEYS / 4, 10_000, 'd to receive its share');
    const viaD = await CacheClient.connect(d.url);
    clients.push(viaD);
    expect(await readAll(viaD)).toBe(KEYS);

    peers[0]!.child.kill('SIGTERM');
    expect(await peers[0]!.exited).toBe(0);
    await waitFor(async () => (await viaD.ring()).peers.find((p) => p.id === 'a')?.state === 'left', 2000, 'a marked left');
    expect(await readAll(viaD)).toBe(KEYS);
    // d is now alone: it holds every key (the user keys and whichever counters survived)
    expect(await localKeys(d.url)).toBeGreaterThanOrEqual(KEYS);
  });

  it('rejects with typed errors', async () => {
    const client = clients[clients.length - 1]!;
    const error = await client.call('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('UNKNOWN_OP');
    const aborted = new AbortController();
    aborted.abort();
    await expect(client.get('x', { signal: aborted.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
