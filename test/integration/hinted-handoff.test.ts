/**
 * Hinted handoff: a replica that misses a write because its link to the owner dropped (the peer
 * itself stays alive, so no ring change repairs it) gets the entry once the link is back; with
 * `writeAcks` 2 the write is refused with UNAVAILABLE, and the replica still gets it.
 */
import { describe, expect, it } from 'vitest';
import { CacheClient } from '../../src/client/cache-client.js';
import { testPeerConfig } from '../../src/config.js';
import type { Peer } from '../../src/peer.js';
import { startInProcessCluster } from '../support/in-process-cluster.js';
import { waitFor } from '../support/wait-for.js';

/** A key's primary and first replica in a full 3-peer in-process mesh, and a client on the primary. */
interface Setup {
  key: string;
  primaryId: string;
  replicaId: string;
  primary: Peer;
  replica: Peer;
  client: CacheClient;
}

/** Runs `body` on a fresh 3-peer cluster with `writeAcks`, then closes the client and stops the peers. */
async function withPrimaryAndReplica(writeAcks: number, key: string, body: (setup: Setup) => Promise<void>): Promise<void> {
  const peers = await startInProcessCluster(['a', 'b', 'c'], { ...testPeerConfig(), writeAcks });
  const byId = new Map(peers.map((p) => [p.id, p]));
  try {
    await waitFor(() => peers.every((p) => p.ring.size === 3 && p.links.all().length === 2), 5000, 'a full mesh');
    const [primaryId, replicaId] = peers[0]!.ring.preferenceList(key) as [string, string];
    const client = await CacheClient.connect(byId.get(primaryId)!.advertisedUrl, { discoverPeers: false });
    try {
      await body({ key, primaryId, replicaId, primary: byId.get(primaryId)!, replica: byId.get(replicaId)!, client });
    } finally {
      await client.close();
    }
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
}

describe('hinted handoff', () => {
  it('delivers a write a replica missed while its link was down', async () => {
    await withPrimaryAndReplica(1, 'hinted-key', async ({ key, primaryId, replicaId, primary, replica, client }) => {
      await client.set(key, 'v1');
      await waitFor(() => replica.store.peek(key)?.value === '"v1"', 2000, 'v1 on the replica');
      // Drop the link and write before it is re-dialed: writeAcks 1 acknowledges with the
      // owner's copy alone, and the replica's copy is owed as a hint.
      primary.links.get(replicaId)!.close(4000, 'test: link blip');
      await client.set(key, 'v2');
      expect(primary.store.peek(key)?.value).toBe('"v2"');
      await waitFor(() => replica.store.peek(key)?.value === '"v2"', 5000, 'the hint to reach the replica');
      expect((primary.stats().hints as { hinted: number }).hinted).toBeGreaterThan(0);
      expect(replica.members.get(primaryId)?.state).toBe('alive');
    });
  });

  it('refuses a write that reached fewer copies than --write-acks asks, and still hints the replica', async () => {
    await withPrimaryAndReplica(2, 'acked-key', async ({ key, replicaId, primary, replica, client }) => {
      await client.set(key, 'v1');
      expect(replica.store.peek(key)?.value).toBe('"v1"');
      primary.links.get(replicaId)!.close(4000, 'test: link blip');
      const failure = await client.set(key, 'v2').then(
        () => undefined,
        (error: unknown) => error as { code?: string; message?: string },
      );
      expect(failure?.code).toBe('UNAVAILABLE');
      expect(failure?.message).toContain('write reached 1 of the 2 copies required');
      // The owner kept its copy and owes the replica one.
      expect(primary.store.peek(key)?.value).toBe('"v2"');
      await waitFor(() => replica.store.peek(key)?.value === '"v2"', 5000, 'the hint to reach the replica');
    });
  });
});
