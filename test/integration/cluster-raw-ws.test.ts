/**
 * The core acceptance run, through real `ringcache peer` processes at DEFAULT timings and a raw
 * `ws` client (not our library): three peers joined by bootstrap, 1,000 keys set through peer 1
 * and read through peers 2 and 3; kill -9 of a peer detected within 5 s with every key still
 * readable and two copies restored; a fourth peer joining through any member takes its share;
 * SIGTERM of a peer leaves gracefully and loses nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait-for.js';

const KEYS = 1000;
const keyOf = (i: number): string => `key:${i}`;
// Values of many sizes, with 2-, 3- and 4-byte UTF-8 characters, every 100th above the value slab's largest cell (16 KiB).
const valueOf = (i: number): unknown => ({ n: i, s: `value-${i}-é€😀`, pad: (i % 100 === 0 ? 'L' : 'x').repeat(i % 100 === 0 ? 20_000 : i % 300), tags: ['a', i % 7] });

interface RingReply {
  ring: { peers: Array<{ id: string; state: string; ownership: number }>; checksum: string };
}

async function ringOf(client: RawClient): Promise<RingReply['ring']> {
  const reply = await client.call('ring');
  expect(reply.ok).toBe(true);
  return (reply as unknown as RingReply).ring;
}

async function localKeys(client: RawClient): Promise<number> {
  const reply = await client.call('stats');
  return (reply.stats as { keys: number }).keys;
}

async function readAll(client: RawClient): Promise<number> {
  let found = 0;
  for (let start = 0; start < KEYS; start += 100) {
    const replies = await Promise.all(Array.from({ length: Math.min(100, KEYS - start) }, (_, j) => client.call('get', { key: keyOf(start + j) })));
    replies.forEach((reply, j) => {
      expect(reply.ok, JSON.stringify(reply)).toBe(true);
      if (reply.found) {
        expect(reply.value).toEqual(valueOf(start + j));
        found++;
      }
    });
  }
  return found;
}

function aliveIds(ring: RingReply['ring']): string[] {
  return ring.peers.filter((p) => p.state === 'alive').map((p) => p.id).sort();
}

describe('a three-peer cluster of real processes at default timings, raw ws client', () => {
  const peers: PeerProcess[] = [];
  const clients: RawClient[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await killAll(peers);
  });

  it('joins three peers by bootstrap and agrees on the ring', async () => {
    peers.push(await startPeerProcess(['--id', 'p1', '--replicas', '2']));
    peers.push(await startPeerProcess(['--id', 'p2', '--replicas', '2', '--bootstrap', peers[0]!.url]));
    for (const peer of peers) clients.push(await RawClient.connect(peer.url));
    peers.push(await startPeerProcess(['--id', 'p3', '--replicas', '2', '--bootstrap', peers[0]!.url]));
    // the others learn of a new peer within 2 s of its start (at default settings)
    await waitFor(async () => {
      const rings = await Promise.all(clients.map(ringOf));
      return rings.every((r) => r.peers.some((p) => p.id === 'p3' && p.state === 'alive'));
    }, 2000, 'p1 and p2 to learn of p3');
    clients.push(await RawClient.connect(peers[2]!.url));
    await waitFor(async () => {
      const rings = await Promise.all(clients.map(ringOf));
      return rings.every((r) => aliveIds(r).join() === 'p1,p2,p3') && new Set(rings.map((r) => r.checksum)).size === 1;
    }, 5000, 'all three peers to see the same three-peer ring');
    const ring = await ringOf(clients[0]!);
    const total = ring.peers.reduce((sum, p) => sum + p.ownership, 0);
    expect(total).toBeCloseTo(1, 6);
    for (const p of ring.peers) expect(Math.abs(p.ownership - 1 / 3)).toBeLessThan(0.15 / 3);
  });

  it('sets 1,000 keys through peer 1 and gets them through peers 2 and 3', async () => {
    for (let start = 0; start < KEYS; start += 100) {
      const replies = await Promise.all(Array.from({ length: 100 }, (_, j) => clients[0]!.call('set', { key: keyOf(start + j), value: valueOf(start + j) })));
      for (const reply of replies) expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
    }
    expect(await readAll(clients[1]!)).toBe(KEYS);
    expect(await readAll(clients[2]!)).toBe(KEYS);
    // replicas 2: every key is held by exactly two peers
    const counts = await Promise.all(clients.map(localKeys));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2 * KEYS);
  });

  it('kill -9 of a peer: the others show it dead within 5 s and every key still reads back', async () => {
    const victim = peers[2]!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitFor(async () => {
      const rings = await Promise.all([ringOf(clients[0]!), ringOf(clients[1]!)]);
      return rings.every((r) => r.peers.find((p) => p.id === 'p3')?.state === 'dead');
    }, 5000, 'p1 and p2 to show p3 dead');
    const detectionMs = Date.now() - killedAt;
    expect(detectionMs).toBeLessThan(5000);
    console.log(`kill -9 detected as dead on every survivor after ${detectionMs} ms`);
    await clients[2]!.close();
    expect(await readAll(clients[0]!)).toBe(KEYS);
    expect(await readAll(clients[1]!)).toBe(KEYS);
    // once the ring has settled, every key has two copies again (here: both survivors hold all)
    await waitFor(async () => (await localKeys(clients[0]!)) === KEYS && (await localKeys(clients[1]!)) === KEYS, 15_000, 'two copies of every key on the survivors');
  });

  it('a fourth peer joins through any member, receives its share and serves every key', async () => {
    const p4 = await startPeerProcess(['--id', 'p4', '--replicas', '2', '--bootstrap', peers[1]!.url]);
    peers.push(p4);
    const c4 = await RawClient.connect(p4.url);
    clients.push(c4);
    await waitFor(async () => {
      const rings = await Promise.all([ringOf(clients[0]!), ringOf(clients[1]!), ringOf(c4)]);
      return rings.every((r) => aliveIds(r).join() === 'p1,p2,p4');
    }, 5000, 'every peer to see p4 in the ring');
    await waitFor(async () => (await localKeys(c4)) > KEYS / 3, 15_000, 'p4 to receive its share');
    expect(await readAll(c4)).toBe(KEYS);
    await waitFor(async () => {
      const counts = await Promise.all([localKeys(clients[0]!), localKeys(clients[1]!), localKeys(c4)]);
      return counts.reduce((a, b) => a + b, 0) === 2 * KEYS;
    }, 15_000, 'exactly two copies of every key across p1, p2, p4');
  });

  it('SIGTERM: a peer leaves gracefully, exits 0, and nothing is lost', async () => {
    const leaver = peers[0]!;
    leaver.child.kill('SIGTERM');
    expect(await leaver.exited).toBe(0);
    await clients[0]!.close();
    const survivors = [clients[1]!, clients[3]!];
    await waitFor(async () => {
      const rings = await Promise.all(survivors.map(ringOf));
      return rings.every((r) => r.peers.find((p) => p.id === 'p1')?.state === 'left');
    }, 2000, 'the survivors to mark p1 left');
    expect(await readAll(survivors[0]!)).toBe(KEYS);
    expect(await readAll(survivors[1]!)).toBe(KEYS);
    await waitFor(async () => (await localKeys(survivors[0]!)) === KEYS && (await localKeys(survivors[1]!)) === KEYS, 15_000, 'two copies of every key');
  });
});
