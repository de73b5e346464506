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
export const PEER_OPS = ['ping', 'ping-req', 'op', 'replicate', 'read', 'handoff', 'push-pull', 'stats'] as const;
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
   * A key operation forwarded to its primary; `hops` counts forwards so far (at most 2);
   * `acting` asks a replica to serve it as owner because the primary could not be reached.
   */
  op: { req: { op: CacheOp; hops: number; acting?: boolean }; res: OpResult };
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

/** The result of a key operation, as a coordinator returns it (values as JSON text). */
export type OpResult =
  | { found: boolean; value?: string } // get
  | { deleted: boolean } // del
  | { updated: boolean } // expire
  | { ttl: number } // ttl
  | { value: number } // incr
  | Record<string, never>; // set

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
  const result = frameSchema.safeParse(raw);
  if (!result.success) return undefined;
  const frame = result.data as PeerFrame & { ok?: boolean; error?: WireError };
  if (frame.t === 'res' && frame.ok === false && !frame.error) return undefined;
  return frame as PeerFrame;
}

/** Encodes a peer frame as JSON text. */
export function encodePeerFrame(frame: PeerFrame): string {
  return JSON.stringify(frame);
}

const wireEntry = z.tuple([z.string(), z.string().nullable(), z.custom<Version>(isVersion, 'bad version'), z.number().int().nonnegative()]);
const cacheOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('get'), key: z.string() }),
  z.object({ op: z.literal('set'), key: z.string(), value: z.string(), ttl: z.number().int().positive().optional() }),
  z.object({ op: z.literal('del'), key: z.string() }),
  z.object({ op: z.literal('expire'), key: z.string(), ttl: z.number().int().positive() }),
  z.object({ op: z.literal('ttl'), key: z.string() }),
  z.object({ op: z.literal('incr'), key: z.string(), by: z.number().int() }),
]);

const bodySchemas: { [K in PeerOpName]: z.ZodType<PeerOps[K]['req']> } = {
  ping: z.object({}).passthrough() as unknown as z.ZodType<Record<string, never>>,
  'ping-req': z.object({ target: z.string() }),
  op: z.object({ op: cacheOp, hops: z.number().int().nonnegative(), acting: z.boolean().optional() }) as z.ZodType<PeerOps['op']['req']>,
  replicate: z.object({ entries: z.array(wireEntry) }) as z.ZodType<PeerOps['replicate']['req']>,
  read: z.object({ keys: z.array(z.string()) }),
  handoff: z.object({ entries: z.array(wireEntry) }) as z.ZodType<PeerOps['handoff']['req']>,
  'push-pull': z.object({ members }) as z.ZodType<PeerOps['push-pull']['req']>,
  stats: z.object({}).passthrough() as unknown as z.ZodType<Record<string, never>>,
};

/** True when `op` names a known peer op. */
export function isPeerOp(op: string): op is PeerOpName {
  return Object.prototype.hasOwnProperty.call(bodySchemas, op);
}

/** Validates the body of a peer request; returns undefined when it is malformed. */
export function parseOpBody<K extends PeerOpName>(op: K, body: unknown): PeerOps[K]['req'] | undefined {
  const result = bodySchemas[op].safeParse(body);
  return result.success ? (result.data as PeerOps[K]['req']) : undefined;
}
