/**
 * Client frames: the JSON text frames a client sends on `ws://HOST:PORT/` of any peer, their
 * validation, and the encoding of replies. `docs/protocol.md` documents these shapes; they are
 * the contract with every client (our `CacheClient`, a browser, `websocat`).
 *
 * Request: `{"id": string|number, "op": "...", ...fields}`.
 * Reply:   `{"id": ..., "ok": true, ...}` or `{"id": ..., "ok": false, "error": {"code", "message"}}`.
 * Push:    `{"event": "member"|"ring", ...}` (no id) after `watch`.
 *
 * After validation a request becomes a {@link CacheOp}: the same shape, with values carried as
 * JSON text (`value` is what the store keeps and what peer links forward, so a value is
 * serialised once, when it enters the cluster).
 */
import { z } from 'zod';
import { CacheError, type WireError } from '../errors.js';

/** Size limits applied to client requests, in bytes (see PeerConfig). */
export interface RequestLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/** Every operation a client may send; append-only. */
export const CLIENT_OPS = ['get', 'set', 'del', 'expire', 'ttl', 'incr', 'mget', 'mset', 'ring', 'watch', 'unwatch', 'stats', 'ping', 'cluster-stats'] as const;
export type ClientOpName = (typeof CLIENT_OPS)[number];

/** A request id as the client sent it (echoed verbatim in the reply). */
export type RequestId = string | number;

/** One entry of `mset`, validated: value as JSON text, ttl in ms. */
export interface WriteEntry {
  key: string;
  value: string;
  ttl?: number;
}

/** A validated key-value operation, as executed by a coordinator and forwarded between peers. */
export type CacheOp =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: string; ttl?: number }
  | { op: 'del'; key: string }
  | { op: 'expire'; key: string; ttl: number }
  | { op: 'ttl'; key: string }
  | { op: 'incr'; key: string; by: number };

/** A validated client request (cluster-level ops included). */
export type ClientRequest =
  | (CacheOp & { id: RequestId })
  | { id: RequestId; op: 'mget'; keys: string[] }
  | { id: RequestId; op: 'mset'; entries: WriteEntry[] }
  | { id: RequestId; op: 'ring' | 'watch' | 'unwatch' | 'stats' | 'ping' | 'cluster-stats' };

/** The outcome of parsing one frame: a request, or an error reply to send back. */
export type ParsedFrame = { ok: true; request: ClientRequest } | { ok: false; id: RequestId | null; error: CacheError };

/** Largest ttl accepted, in ms (about 68 years; keeps `now + ttl` exact). */
export const MAX_TTL_MS = 2 ** 41;

const key = z.string();
const ttl = z.number().int().positive().max(MAX_TTL_MS);
const jsonValue = z.unknown().refine((v) => v !== undefined, 'value is required');
const empty = z.object({}).passthrough();

const schemas: Record<ClientOpName, z.ZodType> = {
  get: z.object({ key }),
  set: z.object({ key, value: jsonValue, ttl: ttl.optional() }),
  del: z.object({ key }),
  expire: z.object({ key, ttl }),
  ttl: z.object({ key }),
  incr: z.object({ key, by: z.number().int().refine(Number.isSafeInteger, 'by must be a safe integer').optional() }),
  mget: z.object({ keys: z.array(key).min(1) }),
  mset: z.object({ entries: z.array(z.object({ key, value: jsonValue, ttl: ttl.optional() })).min(1) }),
  ring: empty,
  watch: empty,
  unwatch: empty,
  stats: empty,
  ping: empty,
  'cluster-stats': empty,
};

/** UTF-8 byte length of a string, without allocating. */
export function utf8Length(text: string): number {
  // Fast path: most keys are short ASCII; Buffer.byteLength is exact for the rest.
  if (text.length < 64) {
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return text.length;
  }
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Checks a key against the size limit.
 * @throws CacheError TOO_LARGE when the key exceeds `maxKeyBytes` UTF-8 bytes
 */
export function checkKey(keyText: string, limits: RequestLimits): void {
  if (keyText.length > limits.maxKeyBytes || utf8Length(keyText) > limits.maxKeyBytes) {
    throw new CacheError('TOO_LARGE', `key exceeds ${limits.maxKeyBytes} bytes`);
  }
}

/**
 * Serialises a value to the JSON text the store keeps and checks its size.
 * @throws CacheError TOO_LARGE when the JSON text exceeds `maxValueBytes` UTF-8 bytes
 * @throws CacheError BAD_REQUEST when the value cannot be serialised
 */
export function encodeValue(value: unknown, limits: RequestLimits): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') throw new CacheError('BAD_REQUEST', 'value is not JSON-serialisable');
  if (text.length > limits.maxValueBytes || utf8Length(text) > limits.maxValueBytes) {
    throw new CacheError('TOO_LARGE', `value exceeds ${limits.maxValueBytes} bytes`);
  }
  return text;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const path = issue.path.join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Parses and validates one client text frame.
 * Never throws: a malformed frame gives `{ok: false, id, error}` with code `BAD_REQUEST`
 * (unparseable JSON, missing/mistyped fields, bad id), `UNKNOWN_OP` or `TOO_LARGE`.
 */
export function parseClientFrame(text: string, limits: RequestLimits): ParsedFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, id: null, error: new CacheError('BAD_REQUEST', 'frame is not valid JSON') };
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
    return { ok: false, id: null, error: new CacheError('BAD_REQUEST', 'frame must be a JSON object') };
  }
  const raw = frame as Record<string, unknown>;
  const id = raw.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    return { ok: false, id: null, error: new CacheError('BAD_REQUEST', 'id must be a string or a number') };
  }
  const op = raw.op;
  if (typeof op !== 'string') return { ok: false, id, error: new CacheError('BAD_REQUEST', 'op must be a string') };
  if (!Object.prototype.hasOwnProperty.call(schemas, op)) {
    return { ok: false, id, error: new CacheError('UNKNOWN_OP', `unknown op ${JSON.stringify(op.slice(0, 64))}`) };
  }
  const result = schemas[op as ClientOpName].safeParse(raw);
  if (!result.success) return { ok: false, id, error: new CacheError('BAD_REQUEST', describeIssue(result.error)) };
  try {
    return { ok: true, request: toRequest(id, op as ClientOpName, result.data as Record<string, unknown>, limits) };
  } catch (error) {
    return { ok: false, id, error: error instanceof CacheError ? error : new CacheError('BAD_REQUEST', String(error)) };
  }
}

function toRequest(id: RequestId, op: ClientOpName, data: Record<string, unknown>, limits: RequestLimits): ClientRequest {
  switch (op) {
    case 'get':
    case 'del':
    case 'ttl': {
      const k = data.key as string;
      checkKey(k, limits);
      return { id, op, key: k };
    }
    case 'set': {
      const k = data.key as string;
      checkKey(k, limits);
      const request: ClientRequest = { id, op, key: k, value: encodeValue(data.value, limits) };
      if (data.ttl !== undefined) request.ttl = data.ttl as number;
      return request;
    }
    case 'expire': {
      const k = data.key as string;
      checkKey(k, limits);
      return { id, op, key: k, ttl: data.ttl as number };
    }
    case 'incr': {
      const k = data.key as string;
      checkKey(k, limits);
      return { id, op, key: k, by: (data.by as number | undefined) ?? 1 };
    }
    case 'mget': {
      const keys = data.keys as string[];
      for (const k of keys) checkKey(k, limits);
      return { id, op, keys };
    }
    case 'mset': {
      const entries = (data.entries as Array<{ key: string; value: unknown; ttl?: number }>).map((entry) => {
        checkKey(entry.key, limits);
        const out: WriteEntry = { key: entry.key, value: encodeValue(entry.value, limits) };
        if (entry.ttl !== undefined) out.ttl = entry.ttl;
        return out;
      });
      return { id, op, entries };
    }
    default:
      return { id, op };
  }
}

/** Reply body of a successful operation, without id and ok (e.g. `{found: true, value}`). */
export type ReplyBody = Record<string, unknown>;

/** Encodes a success reply: `{"id": id, "ok": true, ...body}`. */
export function encodeOkReply(id: RequestId | null, body: ReplyBody | undefined): string {
  const head = `{"id":${JSON.stringify(id)},"ok":true`;
  if (!body) return `${head}}`;
  const rest = JSON.stringify(body);
  return rest === '{}' ? `${head}}` : `${head},${rest.slice(1)}`;
}

/**
 * Encodes the reply of a `get` hit by splicing the stored JSON text in, so the value is not
 * parsed and re-serialised: `{"id": id, "ok": true, "found": true, "value": <json>}`.
 */
export function encodeGetHitReply(id: RequestId, valueJson: string): string {
  return `{"id":${JSON.stringify(id)},"ok":true,"found":true,"value":${valueJson}}`;
}

/** Encodes an error reply: `{"id": id, "ok": false, "error": {"code", "message"}}`. */
export function encodeErrorReply(id: RequestId | null, error: WireError): string {
  return JSON.stringify({ id, ok: false, error: { code: error.code, message: error.message } });
}

/** Encodes a pushed event frame (no id): `{"event": name, ...payload}`. */
export function encodeEvent(event: 'member' | 'ring' | 'rebalance', payload: Record<string, unknown>): string {
  return JSON.stringify({ event, ...payload });
}
