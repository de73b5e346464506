/**
 * PeerLink over a real WebSocket pair on 127.0.0.1: correlation of out-of-order replies, deadlines,
 * and pending requests failing at once with UNAVAILABLE when the link drops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CacheError } from '../../../src/errors.js';
import { waitFor } from '../../support/wait-for.js';
import { LinkUnavailableError, PeerLink, type PeerRequestHandler } from '../../../src/transport/peer-link.js';
import { TurnBudget } from '../../../src/turn-budget.js';

const remote = (id: string) => ({ id, url: 'ws://127.0.0.1:1', state: 'alive' as const, incarnation: 0, generation: 1 });

async function linkedPair(serverHandler: PeerRequestHandler, serverBudget?: TurnBudget): Promise<{ client: PeerLink; server: Promise<PeerLink>; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const server = new Promise<PeerLink>((resolve) =>
    wss.once('connection', (socket) => resolve(new PeerLink(socket, { remote: remote('a'), dialerId: 'a', handler: serverHandler, onGossip: () => {}, piggyback: () => undefined, turnBudget: serverBudget }))),
  );
  const port = (wss.address() as { port: number }).port;
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => socket.once('open', resolve));
  const client = new PeerLink(socket, { remote: remote('b'), dialerId: 'a', handler: () => ({}), onGossip: () => {}, piggyback: () => undefined });
  return { client, server, wss };
}

describe('PeerLink', () => {
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((wss) => new Promise((resolve) => wss.close(resolve))));
  });

  it('correlates replies that arrive out of order', async () => {
    const { client, wss } = await linkedPair(async (_op, body) => {
      const { keys } = body as { keys: string[] };
      await new Promise((resolve) => setTimeout(resolve, keys[0] === 'slow' ? 50 : 1));
      return { entries: [[keys[0], 'null', [1, 0, 'x'], 0]] };
    });
    servers.push(wss);
    const slow = client.request('read', { keys: ['slow'] }, 2000);
    const fast = client.request('read', { keys: ['fast'] }, 2000);
    const order: string[] = [];
    await Promise.all([slow.then((r) => order.push(r.entries[0]![0])), fast.then((r) => order.push(r.entries[0]![0]))]);
    expect(order).toEqual(['fast', 'slow']);
    client.close();
  });

  it('rejects with TIMEOUT at the deadline and ignores the late reply', async () => {
    const { client, wss } = await linkedPair(() => new Promise((resolve) => setTimeout(() => resolve({}), 200)));
    servers.push(wss);
    await expect(client.request('ping', {}, 30)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(client.pendingCount).toBe(0);
    client.close();
  });

  it('fails every pending request at once with UNAVAILABLE when the link drops', async () => {
    let received = 0;
    const { client, server, wss } = await linkedPair(() => {
      received++;
      return new Promise(() => {});
    });
    servers.push(wss);
    const serverLink = await server;
    const pending = Array.from({ length: 10 }, () => client.request('ping', {}, 60_000).catch((e: unknown) => e));
    await waitFor(() => received === 10, 5000, 'the ten requests to reach the other side');
    const started = Date.now();
    serverLink.terminate();
    const errors = await Promise.all(pending);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const error of errors) {
      expect(error).toBeInstanceOf(LinkUnavailableError);
      expect((error as CacheError).code).toBe('UNAVAILABLE');
      expect((error as LinkUnavailableError).sent).toBe(true);
    }
    const late = await client.request('ping', {}, 1000).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'UNAVAILABLE', sent: false });
  });

  it('answers an unknown op with UNKNOWN_OP and a handler error with its code', async () => {
    const { client, wss } = await linkedPair(() => {
      throw new CacheError('NOT_A_NUMBER', 'nope');
    });
    servers.push(wss);
    await expect(client.request('ping', {}, 1000)).rejects.toMatchObject({ code: 'NOT_A_NUMBER' });
    await expect(client.request('frobnicate' as 'ping', {}, 1000)).rejects.toMatchObject({ code: 'UNKNOWN_OP' });
    client.close();
  });

  it('runs a long message within the turn budget: the rest waits for later turns, in order, and every request is answered', async () => {
    // Turns are counted by a chain of setImmediate callbacks; the handler notes the turn it ran in.
    let turn = 0;
    let counting = true;
    const countTurns = (): void => {
      turn++;
      if (counting) setImmediate(countTurns);
    };
    const seen: Array<{ n: number; turn: number }> = [];
    const { client, wss } = await linkedPair((_op, body) => {
      const until = performance.now() + 0.1; // 0.1 ms of work per request
      while (performance.now() < until) {
        // busy on purpose
      }
      seen.push({ n: (body as { n: number }).n, turn });
      return {};
    }, new TurnBudget(1));
    servers.push(wss);
    setImmediate(countTurns);
    // 200 requests queued in one turn leave as one message: 20 ms of work for a 1 ms budget.
    const replies = Array.from({ length: 200 }, (_, n) => client.request('ping', { n } as never, 10_000));
    await Promise.all(replies);
    counting = false;
    expect(seen.map((s) => s.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(new Set(seen.map((s) => s.turn)).size).toBeGreaterThan(1);
    client.close();
  });
});
