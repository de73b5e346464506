/**
 * Batch frames against three in-process peers (replicas 2) over a raw `ws` client: one array of
 * requests in, one array of replies out, in request order, with keys owned by every peer (so the
 * batch mixes local work, forwards and replication, themselves batched on the peer links).
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { startInProcessCluster } from '../support/in-process-cluster.js';
import { exchangeFrame } from '../support/raw-client.js';

type Reply = { id: unknown; ok: boolean; error?: { code: string; message: string }; [field: string]: unknown };

/** Sends one raw text frame and resolves with the next frame received (parsed). */
function exchange(socket: WebSocket, text: string): Promise<unknown> {
  return exchangeFrame(socket, text, 5000);
}

describe('batch frames', () => {
  const base = { ...testPeerConfig(), maxBatchRequests: 300 };
  let peers: Peer[] = [];
  let socket: WebSocket;

  beforeAll(async () => {
    peers = await startInProcessCluster(['a', 'b', 'c'], base);
    socket = new WebSocket(peers[0]!.advertisedUrl);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
  });

  afterAll(async () => {
    socket?.close();
    await Promise.all(peers.map((p) => p.stop()));
  });

  it('answers a batch with one array of replies in request order, across every owner', async () => {
    const a = peers[0]!;
    const keys = Array.from({ length: 250 }, (_, i) => `batch-${i}`);
    const owners = new Set(keys.map((key) => a.ring.primary(key)));
    expect(owners.size).toBe(3);
    const before = a.stats().clientTraffic as { frames: number; requests: number };

    const sets = (await exchange(socket, JSON.stringify(keys.map((key, i) => ({ id: `s${i}`, op: 'set', key, value: { i } }))))) as Reply[];
    expect(sets).toHaveLength(250);
    expect(sets.every((r, i) => r.id === `s${i}` && r.ok === true)).toBe(true);

    const gets = (await exchange(socket, JSON.stringify(keys.map((key, i) => ({ id: i, op: 'get', key }))))) as Reply[];
    expect(gets.map((r) => r.id)).toEqual(keys.map((_, i) => i));
    expect(gets.every((r, i) => r.ok && r.found === true && (r.value as { i: number }).i === i)).toBe(true);

    const after = a.stats().clientTraffic as { frames: number; requests: number };
    expect(after.frames - before.frames).toBe(2);
    expect(after.requests - before.requests).toBe(500);
    // Every key has its two copies: replication ran for the whole batch.
    const copies = peers.reduce((sum, p) => sum + keys.filter((key) => p.store.peek(key) !== undefined).length, 0);
    expect(copies).toBe(500);
  });

  it('gives a bad element its own error reply and runs the others', async () => {
    const replies = (await exchange(
      socket,
      JSON.stringify([{ id: 1, op: 'set', key: 'mixed', value: 'x' }, { id: 2, op: 'nope' }, 'junk', { id: 4, op: 'get' }, { id: 5, op: 'get', key: 'mixed' }, { id: 6, op: 'incr', key: 'mixed' }]),
    )) as Reply[];
    expect(replies.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      [1, true, undefined],
      [2, false, 'UNKNOWN_OP'],
      [null, false, 'BAD_REQUEST'],
      [4, false, 'BAD_REQUEST'],
      [5, true, undefined],
      [6, false, 'NOT_A_NUMBER'],
    ]);
    expect(replies[4]).toMatchObject({ found: true, value: 'x' });
  });

  it('forwards the operations a turn sends to one owner as one ops request, started in order, each with its own result', async () => {
    const a = peers[0]!;
    // Keys whose primary is b, so every operation below is forwarded from a to b.
    const keys = Array.from({ length: 400 }, (_, i) => `fwd-${i}`).filter((key) => a.ring.primary(key) === 'b');
    const [k1, k2] = keys;
    const before = { ...(a.stats().coordinator as { forwarded: number; forwardBatches: number }) };
    const replies = (await exchange(
      socket,
      JSON.stringify([
        { id: 1, op: 'set', key: k1, value: 1 },
        { id: 2, op: 'get', key: k1 },
        { id: 3, op: 'incr', key: k1, by: 2 },
        { id: 4, op: 'set', key: k2, value: 'text' },
        { id: 5, op: 'incr', key: k2 },
        { id: 6, op: 'get', key: k2 },
        { id: 7, op: 'del', key: k1 },
      ]),
    )) as Reply[];
    expect(replies.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      [1, true, undefined],
      [2, true, undefined],
      [3, true, undefined],
      [4, true, undefined],
      [5, false, 'NOT_A_NUMBER'],
      [6, true, undefined],
      [7, true, undefined],
    ]);
    // The operations started in order at the owner: a read sees the set before it (a set is one
    // synchronous step there), a read-modify-write the value before it.
    expect(replies[1]).toMatchObject({ found: true, value: 1 });
    expect(replies[2]).toMatchObject({ value: 3 });
    expect(replies[5]).toMatchObject({ found: true, value: 'text' });
    expect(replies[6]).toMatchObject({ deleted: true });
    const after = a.stats().coordinator as { forwarded: number; forwardBatches: number };
    expect(after.forwarded - before.forwarded).toBe(7);
    expect(after.forwardBatches - before.forwardBatches).toBe(1);
  });

  it('a forwarding peer that holds a copy of the key gets the stamped version in the reply instead of a replicate', async () => {
    const [a, b, c] = peers as [Peer, Peer, Peer];
    // Keys whose primary is b: for some of them a is the other member of the preference list
    // (a holder: b returns the version and a applies the write itself), for the others c is.
    const keys = Array.from({ length: 400 }, (_, i) => `holder-${i}`).filter((key) => a.ring.primary(key) === 'b');
    const held = keys.filter((key) => a.ring.preferenceList(key).includes('a')).slice(0, 20);
    const notHeld = keys.filter((key) => !a.ring.preferenceList(key).includes('a')).slice(0, 20);
    expect(held.length).toBe(20);
    expect(notHeld.length).toBe(20);
    const stats = (peer: Peer): { replicatedIn: number; replicatedOut: number } => peer.stats().coordinator as { replicatedIn: number; replicatedOut: number };
    const before = { a: stats(a).replicatedIn, b: stats(b).replicatedOut, c: stats(c).replicatedIn };

    const replies = (await exchange(socket, JSON.stringify([...held, ...notHeld].map((key, i) => ({ id: i, op: 'set', key, value: { i }, ttl: 60_000 }))))) as Reply[];
    expect(replies.every((r) => r.ok)).toBe(true);

    // Every key has its two copies, with one version and one expiry on both.
    for (const key of held) {
      const [mine, owners] = [a.store.peek(key), b.store.peek(key)];
      expect(mine).toBeDefined();
      expect(mine!.version).toEqual(owners!.version);
      expect(mine!.expiresAt).toBe(owners!.expiresAt);
      expect(c.store.peek(key)).toBeUndefined();
    }
    for (const key of notHeld) {
      expect(c.store.peek(key)!.version).toEqual(b.store.peek(key)!.version);
      expect(a.store.peek(key)).toBeUndefined();
    }
    expect(stats(a).replicatedIn - before.a).toBe(20);
    expect(stats(c).replicatedIn - before.c).toBe(20);
    // b replicated only the keys a does not hold (a replicate to a for each held key before).
    expect(stats(b).replicatedOut - before.b).toBe(20);

    const gets = (await exchange(socket, JSON.stringify(held.map((key, i) => ({ id: i, op: 'get', key }))))) as Reply[];
    expect(gets.every((r, i) => r.ok && r.found === true && (r.value as { i: number }).i === i)).toBe(true);
  });

  it('refuses an empty batch with one error reply, and every request of a batch over maxBatchRequests with TOO_LARGE', async () => {
    expect(await exchange(socket, '[]')).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    const before = peers[0]!.stats().coordinator as { requests: number };
    const tooMany = Array.from({ length: 301 }, (_, i) => ({ id: i, op: 'set', key: `refused-${i}`, value: i }));
    const replies = (await exchange(socket, JSON.stringify(tooMany))) as Reply[];
    expect(replies).toHaveLength(301);
    expect(replies.every((r, i) => r.id === i && r.ok === false && r.error?.code === 'TOO_LARGE')).toBe(true);
    // None of them ran.
    expect((peers[0]!.stats().coordinator as { requests: number }).requests).toBe(before.requests);
    expect(await exchange(socket, JSON.stringify({ id: 'after', op: 'get', key: 'mixed' }))).toMatchObject({ id: 'after', ok: true, found: true });
  });
});
