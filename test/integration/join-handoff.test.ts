/**
 * A peer joining through a member that holds data: the member's first rebalance pass reaches the
 * joiner at once (frames the member sends right after its welcome, in the same TCP read, must not
 * be lost on the joiner's side).
 */
import { describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import type { RebalanceReport } from '../../src/replication/rebalancer.js';
import { waitFor } from '../support/wait-for.js';

const base = testPeerConfig();

describe('joining through a member that holds data', () => {
  it('gets its entries in the first rebalance pass, without a failed batch', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await Peer.start({ id: 'a' }, { base });
      const client = await CacheClient.connect(a.advertisedUrl, { discoverPeers: false });
      let b: Peer | undefined;
      try {
        await client.mset(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: i })));
        const reports: RebalanceReport[] = [];
        a.on('rebalance:done', (report) => reports.push(report));
        b = await Peer.start({ id: 'b', bootstrap: [a.advertisedUrl] }, { base });
        await waitFor(() => reports.length > 0, 5000, 'a first rebalance pass on a');
        expect(reports[0]!.complete).toBe(true);
        expect(reports[0]!.entries).toBe(300);
        expect(b.store.liveCount).toBe(300);
      } finally {
        await client.close();
        await Promise.all([a.stop(), b?.stop()]);
      }
    }
  });
});
