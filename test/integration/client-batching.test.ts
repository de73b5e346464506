/**
 * Auto-batching against a real peer: calls issued in one tick reach the peer as fewer frames
 * (the peer's `clientTraffic` counters) and each resolves with its own value; with batching off
 * every call is a frame of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';

const base = testPeerConfig();
const peers: Peer[] = [];
const clients: CacheClient[] = [];

/** Client frames and the requests in them received by `peer` since it started. */
function traffic(peer: Peer): { frames: number; requests: number } {
  return peer.stats().clientTraffic as { frames: number; requests: number };
}

async function setup(batching: boolean): Promise<{ peer: Peer; client: CacheClient }> {
  const peer = await Peer.start({ id: 'solo' }, { base });
  peers.push(peer);
  const client = await CacheClient.connect(peer.advertisedUrl, { discoverPeers: false, batching });
  clients.push(client);
  await client.call('ping');
  return { peer, client };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
});

describe('CacheClient batching against a peer', () => {
  it('sends the calls of one tick as one frame per 1024 and resolves each with its value', async () => {
    const { peer, client } = await setup(true);
    const keys = Array.from({ length: 1500 }, (_, i) => `k${i}`);
    const before = traffic(peer);
    await Promise.all(keys.map((key, i) => client.set(key, { i })));
    const afterSets = traffic(peer);
    expect(afterSets.requests - before.requests).toBe(1500);
    expect(afterSets.frames - before.frames).toBe(2);

    const [values, counters, missing] = await Promise.all([
      Promise.all(keys.map((key) => client.get(key))),
      Promise.all([client.incr('n'), client.incr('n'), client.incr('n', 10)]),
      client.getEntry('missing'),
    ]);
    expect(values).toEqual(keys.map((_, i) => ({ i })));
    expect(counters).toEqual([1, 2, 12]);
    expect(missing).toEqual({ found: false });
    const afterGets = traffic(peer);
    expect(afterGets.requests - afterSets.requests).toBe(1504);
    expect(afterGets.frames - afterSets.frames).toBe(2);

    // Errors stay per request inside a batch.
    const results = await Promise.allSettled([client.incr(keys[0]!), client.get(keys[1]!)]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 'NOT_A_NUMBER' } });
    expect(results[1]).toEqual({ status: 'fulfilled', value: { i: 1 } });
  });

  it('with batching off sends one frame per call', async () => {
    const { peer, client } = await setup(false);
    const before = traffic(peer);
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => client.incr(`n${i % 10}`)));
    expect(values.filter((value) => value === 20)).toHaveLength(10);
    const after = traffic(peer);
    expect(after.requests - before.requests).toBe(200);
    expect(after.frames - before.frames).toBe(200);
  });
});
