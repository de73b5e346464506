/**
 * While rebalancing streams entries to a joining peer, reads through that peer (the new primary
 * of a quarter of the keys, still missing most of them) find every key: the owner falls back to
 * the other members of the preference list and repairs its copy. Small batches stretch the
 * rebalance so the reads really overlap it.
 */
import { describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { startInProcessCluster } from '../support/in-process-cluster.js';
import { waitFor } from '../support/wait-for.js';

const base = { ...testPeerConfig(), rebalanceBatchEntries: 16 };
const KEYS = 6000;

describe('reads during a rebalance', () => {
  it('find every key through a joining peer while entries stream to it', async () => {
    const peers = await startInProcessCluster(['r1', 'r2', 'r3'], base);
    const writer = await CacheClient.connect(peers[0]!.advertisedUrl, { discoverPeers: false });
    let reader: CacheClient | undefined;
    try {
      for (let start = 0; start < KEYS; start += 500) {
        await writer.mset(Array.from({ length: 500 }, (_, j) => ({ key: `k${start + j}`, value: start + j })));
      }
      let sawRebalanceRunning = false;
      const joiner = await Peer.start({ id: 'r4', bootstrap: [peers[1]!.advertisedUrl] }, { base });
      peers.push(joiner);
      joiner.on('rebalance:start', () => (sawRebalanceRunning = true));
      for (const p of peers) if (p.rebalancer.running) sawRebalanceRunning = true;
      const heldAtStart = joiner.store.liveCount;
      reader = await CacheClient.connect(joiner.advertisedUrl, { discoverPeers: false });
      const values = await reader.mget(Array.from({ length: KEYS }, (_, i) => `k${i}`));
      const missing = values.map((v, i) => (v.found && v.value === i ? -1 : i)).filter((i) => i >= 0);
      expect(missing).toEqual([]);
      // the reads overlapped the rebalance: the joiner started with few of its keys
      expect(heldAtStart).toBeLessThan(KEYS / 4);
      expect(sawRebalanceRunning || peers.some((p) => p.rebalancer.totals.passes > 0)).toBe(true);
      await waitFor(() => peers.every((p) => !p.rebalancer.running), 20_000, 'rebalancing to finish');
      // an entry moving to the joiner is sent by the holder that keeps it and by the one that drops
      // it (which never relies on another holder): at most about two copies per entry received
      const sent = peers.reduce((sum, p) => sum + p.rebalancer.totals.entriesSent, 0);
      expect(sent).toBeLessThan(2.2 * joiner.store.liveCount);
      const copies = peers.reduce((sum, p) => sum + p.store.liveCount, 0);
      expect(copies).toBe(2 * KEYS);
    } finally {
      await writer.close();
      await reader?.close();
      await Promise.all(peers.map((p) => p.stop()));
    }
  });
});
