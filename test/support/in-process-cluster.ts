/**
 * Starts a cluster of in-process peers for a test: the first peer alone, every other one
 * bootstrapping from it, all on the same base config.
 */
import type { PeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { waitFor } from './wait-for.js';

/**
 * Starts peers with `ids` on `base` and waits until each has all of them in its ring.
 * @returns the peers, in the order of `ids`
 * @throws Error when the ring does not form within `deadlineMs` (the peers started are stopped first)
 */
export async function startInProcessCluster(ids: readonly string[], base: PeerConfig, deadlineMs = 5000): Promise<Peer[]> {
  const peers: Peer[] = [];
  try {
    for (const id of ids) peers.push(await Peer.start(peers.length === 0 ? { id } : { id, bootstrap: [peers[0]!.advertisedUrl] }, { base }));
    await waitFor(() => peers.every((p) => p.ring.size === ids.length), deadlineMs, `a ${ids.length}-peer ring everywhere`);
    return peers;
  } catch (error) {
    await Promise.all(peers.map((p) => p.stop()));
    throw error;
  }
}
