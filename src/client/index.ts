/**
 * The client entry point (`ringcache/client`, and the package's `browser` entry). Imports nothing
 * Node-only at the top level: `ws` is loaded lazily, and only when no global `WebSocket` exists.
 */
export {
  CacheClient,
  reconnectDelayMs,
  type CacheClientEvents,
  type CacheClientOptions,
  type CallOptions,
  type ClientStatus,
  type Entry,
  type MemberEvent,
  type MsetEntry,
  type PeerInfo,
  type ReplyFrame,
  type RingInfo,
  type RingPeer,
  type SetOptions,
} from './cache-client.js';
export { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './websocket-factory.js';
export { CacheError, ERROR_CODES, isErrorCode, type ErrorCode, type WireError } from '../errors.js';
export type { MemberState } from '../membership/member.js';
