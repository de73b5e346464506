/**
 * The per-turn budget of client work (`turnBudgetMs`) on an in-process peer over real sockets: a
 * flood of large batch frames runs over many turns (the peer reports deferrals), every batch is
 * still answered whole and in order, another client's ping is answered while the flood is
 * still running instead of after it, and clients connecting during the flood are admitted a
 * budget's worth of handshakes per turn.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { waitFor } from '../support/wait-for.js';

const BATCHES = 20;
const PER_BATCH = 1000;

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('turn budget', () => {
  let peer: Peer;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    peer = await Peer.start({ id: 'tb', turnBudgetMs: 1 }, { base: testPeerConfig() });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await peer.stop();
  });

  it('runs a flood of batches over many turns, answers each whole and in order, and serves a ping meanwhile', async () => {
    const flood = await open(peer.advertisedUrl);
    const other = await open(peer.advertisedUrl);
    sockets.push(flood, other);
    const events: string[] = [];
    const replies: unknown[][] = [];
    flood.on('message', (data) => {
      replies.push(JSON.parse(data.toString()) as unknown[]);
      events.push(`batch ${replies.length}`);
    });
    other.on('message', () => events.push('ping'));

    for (let b = 0; b < BATCHES; b++) {
      flood.send(JSON.stringify(Array.from({ length: PER_BATCH }, (_, i) => ({ id: b * PER_BATCH + i, op: 'set', key: `tb-${b}-${i}`, value: i }))));
    }
    other.send(JSON.stringify({ id: 'p', op: 'ping' }));

    await waitFor(() => replies.length === BATCHES && events.includes('ping'), 30_000, 'every batch reply and the ping');
    for (const [b, reply] of replies.entries()) {
      expect(reply).toHaveLength(PER_BATCH);
      expect(reply.every((r, i) => (r as { id: number; ok: boolean }).id === b * PER_BATCH + i && (r as { ok: boolean }).ok)).toBe(true);
    }
    expect(peer.store.peek(`tb-${BATCHES - 1}-${PER_BATCH - 1}`)).toBeDefined();
    const traffic = peer.stats().clientTraffic as { requests: number; deferrals: number };
    expect(traffic.requests).toBe(BATCHES * PER_BATCH + 1);
    expect(traffic.deferrals).toBeGreaterThan(0);
    // The ping did not wait for the whole flood.
    expect(events.indexOf('ping')).toBeLessThan(events.length - 1);
  });
  it('answers a request deferred behind a flood in the next turn, not after the flood', async () => {
    const flood = await open(peer.advertisedUrl);
    const other = await open(peer.advertisedUrl);
    sockets.push(flood, other);
    const before = (peer.stats().clientTraffic as { deferrals: number }).deferrals;
    const events: string[] = [];
    let batches = 0;
    flood.on('message', () => events.push(`batch ${++batches}`));
    other.on('message', () => events.push('ping'));
    const FLOOD = 60;
    for (let b = 0; b < FLOOD; b++) {
      flood.send(JSON.stringify(Array.from({ length: PER_BATCH }, (_, i) => ({ id: i, op: 'set', key: `fl-${b}-${i}`, value: i }))));
    }
    // The ping is sent once the flood runs deferred, so it arrives while the flood's drain spends
    // every turn's budget first (before the fix it was answered after the last batch).
    await waitFor(() => (peer.stats().clientTraffic as { deferrals: number }).deferrals > before, 10_000, 'the flood to be deferred', 1);
    const sentAt = batches;
    other.send(JSON.stringify({ id: 'p', op: 'ping' }));
    await waitFor(() => batches === FLOOD && events.includes('ping'), 30_000, 'every batch reply and the ping');
    expect(sentAt).toBeLessThan(FLOOD - 5);
    expect(events.indexOf('ping')).toBeLessThan(events.length - 1);
    // The ping waited a turn or two, not for a third of the flood (before the fix: 17 batches
    // answered between its sending and its reply, in every run).
    expect(events.indexOf('ping') - sentAt).toBeLessThan(5);
  });

  it('admits clients connecting at once during a flood a budget at a time, and serves every one', async () => {
    const flood = await open(peer.advertisedUrl);
    sockets.push(flood);
    const stats = (): { deferrals: number; deferredHandshakes: number } => peer.stats().clientTraffic as { deferrals: number; deferredHandshakes: number };
    const before = stats();
    let batches = 0;
    flood.on('message', () => batches++);
    const FLOOD = 60;
    for (let b = 0; b < FLOOD; b++) {
      flood.send(JSON.stringify(Array.from({ length: PER_BATCH }, (_, i) => ({ id: i, op: 'set', key: `hs-${b}-${i}`, value: i }))));
    }
    await waitFor(() => stats().deferrals > before.deferrals, 10_000, 'the flood to be deferred', 1);
    // 30 clients connect while every turn's budget goes to the flood.
    const CLIENTS = 30;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => open(peer.advertisedUrl)));
    sockets.push(...clients);
    const pongs = await Promise.all(
      clients.map(
        (client, i) =>
          new Promise<unknown>((resolve) => {
            client.once('message', (data) => resolve(JSON.parse(data.toString())));
            client.send(JSON.stringify({ id: i, op: 'ping' }));
          }),
      ),
    );
    expect(pongs).toEqual(Array.from({ length: CLIENTS }, (_, i) => expect.objectContaining({ id: i, ok: true })));
    await waitFor(() => batches === FLOOD, 30_000, 'every batch reply');
    expect(stats().deferredHandshakes).toBeGreaterThan(before.deferredHandshakes);
  });
});
