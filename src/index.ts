/**
 * ringcache: a peer-to-peer, in-memory distributed cache for Node.js over WebSockets.
 *
 * - {@link CacheClient}: the client library (Node and browsers).
 * - {@link Peer}: run a peer inside a Node process (the CLI's `ringcache peer` does this).
 * - {@link HashRing}, {@link hashKey}: the placement function, for ring-aware tools.
 * - {@link createStore}: the bounded local store with its eviction policies, without a peer.
 */
export { CacheClient } from './client/cache-client.js';
export type * from './client/cache-client.js';
export { CacheError, ERROR_CODES, type ErrorCode, type WireError } from './errors.js';
export { Peer, type PeerStartOptions } from './peer.js';
export type { PeerEvents } from './peer-events.js';
export { defaultPeerConfig, testPeerConfig, resolvePeerConfig, PROTOCOL_VERSION, type PeerConfig } from './config.js';
export { HashRing } from './ring/hash-ring.js';
export { hashKey } from './ring/key-hash.js';
export {
  createStore,
  DEFAULT_EVICTION_POLICY,
  EVICTION_POLICIES,
  type EvictionPolicyName,
  type Store,
  type StoreKey,
  type StoreOptions,
  type StoreStats,
} from './store/create-store.js';
export type { RingView, RingPeerView } from './ring/ring-view.js';
export type { MemberRecord, MemberState } from './membership/member.js';
