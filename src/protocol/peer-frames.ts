/**
 * Peer frames: the JSON text frames exchanged over the links between peers (`ws://HOST:PORT/peer`).
 * One discriminated union, on the field `t`; frame types and peer ops are append-only.
 *
 * Handshake: the dialing peer sends `hello`, the accepting peer answers `welcome` (or `refuse`
 * and closes). Both carry the protocol version, the placement parameters (vnodes, replicas: they
 * must match) and the sender's member list (a push-pull exchange, as memberlist does on join). Afterwards either side sends `req` frames, correlated by
 * a numeric id with the `res` that answers them; many may be in flight. `gossip` frames and the
 * optional `g` field of `req`/`res` piggyback membership updates (SWIM section 4.1).
 */
import { z } from 'zod';
import type { WireError } from '../errors.js';
import type { Version } from '../hlc.js';
import { isVersion } from '../hlc.js';
import type { MemberRecord } from '../membership/member.js';
import { MEMBER_STATES } from '../membership/member.js';
import type { CacheOp } from './client-frames.js';

/** Peer request operations; append-only. */
export const PEER_OPS = ['ping', 'ping-req', 'ops', 'replicate', 'read', 'handoff', 'push-pull', 'stats'] as const;
export type PeerOpName = (typeof PEER_OPS)[number];

/**
 * An entry on the wire: `[key, value, version, expiresAt]` — value is the JSON text or null for a
 * tombstone, version an HLC version `[l, c, peerId]`, expiresAt ms since the epoch (0 = never).
 */
export type WireEntry = [key: string, value: string | null, version: Version, expiresAt: number];

/** The request body of each peer op, and what its reply carries. */
export interface PeerOps {
  /** Direct SWIM probe. */
  ping: { req: Record<string, never>; res: Record<string, never> };
  /** Indirect SWIM probe: probe `target` on the caller's behalf; `ack` tells whether it answered. */
  'ping-req': { req: { target: string }; res: { ack: boolean } };
  /**
   * Key operations forwarded to their primary: every operation a peer forwards to one peer
   * during an event-loop turn, in the order they were issued, answered by one reply carrying a
   * result per operation, in the same order (see {@link ForwardedOp}, {@link ForwardedResult}).
   */
  ops: { req: { ops: ForwardedOp[] }; res: { results: ForwardedResult[] } };
  /** Copies of writes from a primary to its replicas; LWW-applied. */
  replicate: { req: { entries: WireEntry[] }; res: { applied: number } };
  /** Local-only read of entries (tombstones included), for replica fallback and read repair. */
  read: { req: { keys: string[] }; res: { entries: Array<WireEntry | null> } };
  /** A rebalance batch streamed to a new owner; LWW-applied. */
  handoff: { req: { entries: WireEntry[] }; res: { applied: number } };
  /** Full member-list exchange. */
  'push-pull': { req: { members: MemberRecord[] }; res: { members: MemberRecord[] } };
  /** The peer's local counters. */
  stats: { req: Record<string, never>; res: Record<string, unknown> };
}

/**
 * A key operation forwarded to its primary; `hops` counts forwards so far (at most 2); `acting`
 * asks a replica to serve it as owner because the primary could not be reached; `holder` (sets
 * only) says the sender is in the key's preference list and applies the write itself from the
 * reply's `copy`, so the owner leaves it out of replication.
 */
export interface ForwardedOp {
  op: CacheOp;
  hops: number;
  acting?: boolean;
  holder?: boolean;
}

/** The outcome of one forwarded operation: its result, or the error it failed with. */
export type ForwardedResult = { ok: true; body: OpResult } | { ok: false; error: WireError };

/** The result of a key operation, as a coordinator returns it (values as JSON text). */
export type OpResult =
  | { found: boolean; value?: string } // get
  | { deleted: boolean } // del
  | { updated: boolean } // expire
  | { ttl: number } // ttl
  | { value: number } // incr
  | { copy?: [version: Version, expiresAt: number] }; // set: `copy` only for a holder (ForwardedOp)

/**
 * The placement parameters every member must share: peers that disagree on them would place keys
 * differently, so the handshake refuses them.
 */
export interface Placement {
  vnodes: number;
  replicas: number;
}

/** Any peer frame. */
export type PeerFrame =
  | { t: 'hello'; v: number; from: MemberRecord; members: MemberRecord[]; placement: Placement }
  | { t: 'welcome'; v: number; from: MemberRecord; members: MemberRecord[]; placement: Placement }
  | { t: 'refuse'; error: WireError }
  | { t: 'req'; id: number; op: PeerOpName; body: unknown; g?: MemberRecord[] }
  | { t: 'res'; id: number; ok: true; body: unknown; g?: MemberRecord[] }
  | { t: 'res'; id: number; ok: false; error: WireError; g?: MemberRecord[] }
  | { t: 'gossip'; g: MemberRecord[] };

const memberRecord = z.object({
  id: z.string().min(1).max(128),
  url: z.string().min(1).max(2048),
  state: z.enum(MEMBER_STATES as unknown as [string, ...string[]]),
  incarnation: z.number().int().nonnegative(),
  generation: z.number().int().nonnegative(),
});
const members = z.array(memberRecord).max(10_000);
const wireError = z.object({ code: z.string(), message: z.string() });

const placement = z.object({ vnodes: z.number().int().positive(), replicas: z.number().int().positive() });
const frameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.number().int(), from: memberRecord, members, placement }),
  z.object({ t: z.literal('welcome'), v: z.number().int(), from: memberRecord, members, placement }),
  z.object({ t: z.literal('refuse'), error: wireError }),
  z.object({ t: z.literal('req'), id: z.number().int(), op: z.string(), body: z.unknown(), g: members.optional() }),
  z.object({ t: z.literal('res'), id: z.number().int(), ok: z.boolean(), body: z.unknown().optional(), error: wireError.optional(), g: members.optional() }),
  z.object({ t: z.literal('gossip'), g: members }),
]);

/**
 * Parses one peer frame. Returns undefined for anything that is not a well-formed peer frame
 * (the caller closes the link or drops the frame; a bad frame never throws past here).
 * Op bodies are validated by the handler of each op ({@link parseOpBody}).
 */
export function parsePeerFrame(text: string): PeerFrame | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  return validatePeerFrame(raw);
}

/**
 * Parses a frame received on an established link: one peer frame, or a batch of them (a JSON
 * array of 1 or more `req`/`res`/`gossip` frames, which a link writes when several frames are
 * queued in the same tick). Returns undefined when the text or any frame in it is malformed.
 */
export function parseLinkFrames(text: string): PeerFrame[] | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw)) {
    const frame = validatePeerFrame(raw);
    return frame === undefined ? undefined : [frame];
  }
  if (raw.length === 0) return undefined;
  const frames = new Array<PeerFrame>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const frame = validatePeerFrame(raw[i]);
    if (frame === undefined || frame.t === 'hello' || frame.t === 'welcome' || frame.t === 'refuse') return undefined;
    frames[i] = frame;
  }
  return frames;
}

function isWireError(value: unknown): value is WireError {
  return typeof value === 'object' && value !== null && typeof (value as WireError).code === 'string' && typeof (value as WireError).message === 'string';
}

/**
 * Checks a parsed frame. `req`, `res` and `gossip` frames, one per request on the data path,
 * are checked by hand (the gossip records, rare, by schema); handshake frames by schema.
 */
function validatePeerFrame(raw: unknown): PeerFrame | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const frame = raw as Record<string, unknown>;
  switch (frame.t) {
    case 'req':
      if (!Number.isInteger(frame.id) || typeof frame.op !== 'string' || (frame.g !== undefined && !members.safeParse(frame.g).success)) return undefined;
      return raw as PeerFrame;
    case 'res':
      if (!Number.isInteger(frame.id) || typeof frame.ok !== 'boolean' || (frame.g !== undefined && !members.safeParse(frame.g).success)) return undefined;
      if (frame.ok === false && !isWireError(frame.error)) return undefined;
      return raw as PeerFrame;
    case 'gossip':
      return members.safeParse(frame.g).success ? (raw as PeerFrame) : undefined;
    default: {
      const result = frameSchema.safeParse(raw);
      return result.success ? (result.data as PeerFrame) : undefined;
    }
  }
}

/** Encodes a peer frame as JSON text. */
export function encodePeerFrame(frame: PeerFrame): string {
  return JSON.stringify(frame);
}

const MAX_TTL = 2 ** 41;

function isWireEntry(value: unknown): value is WireEntry {
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [key, text, version, expiresAt] = value as unknown[];
  return typeof key === 'string' && (text === null || typeof text === 'string') && isVersion(version) && Number.isInteger(expiresAt) && (expiresAt as number) >= 0;
}

function isPositiveTtl(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_TTL;
}

/** Checks a forwarded key operation (the {@link CacheOp} shapes); extra fields are ignored. */
function isCacheOp(value: unknown): value is CacheOp {
  if (typeof value !== 'object' || value === null) return false;
  const op = value as Record<string, unknown>;
  if (typeof op.key !== 'string') return false;
  switch (op.op) {
    case 'get':
    case 'del':
    case 'ttl':
      return true;
    case 'set':
      return typeof op.value === 'string' && (op.ttl === undefined || isPositiveTtl(op.ttl));
    case 'expire':
      return isPositiveTtl(op.ttl);
    case 'incr':
      return Number.isSafeInteger(op.by);
    default:
      return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Body checks per op: hand-written for the data-path ops (one per request), schemas for the rest. */
const bodyChecks: { [K in PeerOpName]: (body: unknown) => boolean } = {
  ping: isObject,
  'ping-req': (body) => isObject(body) && typeof body.target === 'string',
  // Each operation is checked on its own (isForwardedOp): a malformed one fails alone.
  ops: (body) => isObject(body) && Array.isArray(body.ops),
  replicate: (body) => isObject(body) && Array.isArray(body.entries) && body.entries.every(isWireEntry),
  read: (body) => isObject(body) && Array.isArray(body.keys) && body.keys.every((key) => typeof key === 'string'),
  handoff: (body) => isObject(body) && Array.isArray(body.entries) && body.entries.every(isWireEntry),
  'push-pull': (body) => isObject(body) && members.safeParse(body.members).success,
  stats: isObject,
};

/** True when `item` is a well-formed {@link ForwardedOp}. */
export function isForwardedOp(item: unknown): item is ForwardedOp {
  return isObject(item) && isCacheOp(item.op) && Number.isInteger(item.hops) && (item.hops as number) >= 0 && (item.acting === undefined || typeof item.acting === 'boolean') && (item.holder === undefined || typeof item.holder === 'boolean');
}

/** True when `op` names a known peer op. */
export function isPeerOp(op: string): op is PeerOpName {
  return Object.prototype.hasOwnProperty.call(bodyChecks, op);
}

/**
 * Validates the body of a peer request; returns it (as sent: fields an op does not use are kept
 * and ignored), or undefined when it is malformed.
 */
export function parseOpBody<K extends PeerOpName>(op: K, body: unknown): PeerOps[K]['req'] | undefined {
  return bodyChecks[op](body) ? (body as PeerOps[K]['req']) : undefined;
}
