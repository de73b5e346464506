/**
 * Backpressure on a client that pipelines far more requests than the peer lets it have in flight:
 * the peer stops reading the socket past `maxInFlightPerClient` and resumes as replies go out;
 * every request is answered, in any order, and other clients keep being served meanwhile.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { waitFor } from '../support/wait-for.js';

describe('client backpressure', () => {
  it('answers every one of 20,000 pipelined requests with 64 allowed in flight', async () => {
    const peer = await Peer.start({ id: 'bp', maxInFlightPerClient: 64 }, { base: testPeerConfig() });
    const flooder = new WebSocket(peer.advertisedUrl);
    const opened = new Promise((resolve, reject) => {
      flooder.once('open', resolve);
      flooder.once('error', reject);
    });
    const other = await CacheClient.connect(peer.advertisedUrl, { discoverPeers: false });
    try {
      await opened;
      const seen = new Set<number>();
      flooder.on('message', (data) => {
        const reply = JSON.parse(data.toString()) as { id: number; ok: boolean };
        if (reply.ok) seen.add(reply.id);
      });
      const total = 20_000;
      for (let id = 0; id < total; id++) flooder.send(JSON.stringify({ id, op: id % 2 ? 'get' : 'set', key: `k${id % 100}`, value: id }));
      await other.set('other', 1);
      expect(await other.get('other')).toBe(1);
      await waitFor(() => seen.size === total, 20_000, 'every pipelined request to be answered');
    } finally {
      flooder.close();
      await other.close();
      await peer.stop();
    }
  });
});
