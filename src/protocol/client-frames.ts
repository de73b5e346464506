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

/** Largest number of requests in one batch frame (a JSON array of requests). */
export const MAX_BATCH_REQUESTS = 1024;

/** Ops that carry no fields beyond id and op. */
const BARE_OPS: ReadonlySet<string> = new Set(['ring', 'watch', 'unwatch', 'stats', 'ping', 'cluster-stats']);

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

/** What a client text frame holds once it is valid JSON: one request or a batch of them (still unvalidated). */
export type DecodedFrame =
  | { kind: 'single'; raw: unknown }
  | { kind: 'batch'; raws: unknown[] }
  | { kind: 'error'; error: CacheError }
  /** A batch longer than allowed: every element is refused with `error` (TOO_LARGE), none runs. */
  | { kind: 'refused-batch'; raws: unknown[]; error: CacheError };

/**
 * Parses the JSON of one client text frame. A JSON array is a batch frame: 1 to `maxBatch`
 * requests, answered by one array frame of as many replies, in the same order.
 * Never throws: invalid JSON and an empty array give `{kind: 'error'}` (BAD_REQUEST), to be
 * answered with a single error reply (id null); a longer array than `maxBatch` gives
 * `{kind: 'refused-batch'}` (TOO_LARGE), to be answered with an array holding that error for
 * every element (so a client learns the fate of each request, with its id).
 */
export function decodeClientFrame(text: string, maxBatch = MAX_BATCH_REQUESTS): DecodedFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { kind: 'error', error: new CacheError('BAD_REQUEST', 'frame is not valid JSON') };
  }
  if (!Array.isArray(frame)) return { kind: 'single', raw: frame };
  if (frame.length === 0) return { kind: 'error', error: new CacheError('BAD_REQUEST', 'a batch frame must hold at least one request') };
  if (frame.length > maxBatch) return { kind: 'refused-batch', raws: frame, error: new CacheError('TOO_LARGE', `a batch frame holds at most ${maxBatch} requests, got ${frame.length}`) };
  return { kind: 'batch', raws: frame };
}

/**
 * Parses and validates one client text frame holding a single request (see {@link decodeClientFrame}
 * for batches, which this refuses). Never throws; see {@link parseClientRequest}.
 */
export function parseClientFrame(text: string, limits: RequestLimits): ParsedFrame {
  const decoded = decodeClientFrame(text);
  if (decoded.kind === 'error') return { ok: false, id: null, error: decoded.error };
  if (decoded.kind !== 'single') return { ok: false, id: null, error: new CacheError('BAD_REQUEST', 'frame must be a JSON object') };
  return parseClientRequest(decoded.raw, limits);
}

/**
 * Validates one request object (a whole frame, or one element of a batch frame) and turns it into
 * a {@link ClientRequest}: values re-serialised to JSON text, `incr` by defaulting to 1.
 * Hand-written rather than schema-driven because it runs for every request (docs/protocol.md
 * lists the fields). Never throws: a bad request gives `{ok: false, id, error}` with code
 * `BAD_REQUEST` (not an object, bad id, missing/mistyped fields), `UNKNOWN_OP` or `TOO_LARGE`;
 * `id` is echoed when it was readable, else null.
 */
export function parseClientRequest(frame: unknown, limits: RequestLimits): ParsedFrame {
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
    return { ok: false, id: null, error: new CacheError('BAD_REQUEST', 'frame must be a JSON object') };
  }
  const raw = frame as Record<string, unknown>;
  const id = readableId(raw);
  if (id === null) return { ok: false, id: null, error: new CacheError('BAD_REQUEST', 'id must be a string or a number') };
  const op = raw.op;
  if (typeof op !== 'string') return { ok: false, id, error: new CacheError('BAD_REQUEST', 'op must be a string') };
  try {
    return { ok: true, request: toRequest(id, op, raw, limits) };
  } catch (error) {
    return { ok: false, id, error: error instanceof CacheError ? error : new CacheError('BAD_REQUEST', String(error)) };
  }
}

/** The id of a request object when it is a valid one (string or finite number), else null. */
export function readableId(raw: unknown): RequestId | null {
  if (raw === null || typeof raw !== 'object') return null;
  const id = (raw as Record<string, unknown>).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

function badField(field: string, expected: string): CacheError {
  return new CacheError('BAD_REQUEST', `${field}: expected ${expected}`);
}

function requireKey(value: unknown, field: string, limits: RequestLimits): string {
  if (typeof value !== 'string') throw badField(field, 'a string');
  checkKey(value, limits);
  return value;
}

function requireTtl(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_TTL_MS) throw badField(field, `a positive integer of ms, at most ${MAX_TTL_MS}`);
  return value;
}

function requireValue(value: unknown, field: string, limits: RequestLimits): string {
  if (value === undefined) throw new CacheError('BAD_REQUEST', `${field} is required`);
  return encodeValue(value, limits);
}

function toRequest(id: RequestId, op: string, data: Record<string, unknown>, limits: RequestLimits): ClientRequest {
  switch (op) {
    case 'get':
    case 'del':
    case 'ttl':
      return { id, op, key: requireKey(data.key, 'key', limits) };
    case 'set': {
      const request: ClientRequest = { id, op, key: requireKey(data.key, 'key', limits), value: requireValue(data.value, 'value', limits) };
      if (data.ttl !== undefined) request.ttl = requireTtl(data.ttl, 'ttl');
      return request;
    }
    case 'expire': {
      const k = requireKey(data.key, 'key', limits);
      return { id, op, key: k, ttl: requireTtl(data.ttl, 'ttl') };
    }
    case 'incr': {
      const k = requireKey(data.key, 'key', limits);
      const by = data.by;
      if (by !== undefined && !(typeof by === 'number' && Number.isSafeInteger(by))) throw badField('by', 'a safe integer');
      return { id, op, key: k, by: by ?? 1 };
    }
    case 'mget': {
      const keys = data.keys;
      if (!Array.isArray(keys) || keys.length === 0) throw badField('keys', 'a non-empty array of strings');
      for (let i = 0; i < keys.length; i++) requireKey(keys[i], `keys.${i}`, limits);
      return { id, op, keys: keys as string[] };
    }
    case 'mset': {
      const list = data.entries;
      if (!Array.isArray(list) || list.length === 0) throw badField('entries', 'a non-empty array of {key, value, ttl?}');
      const entries = list.map((entry: unknown, i): WriteEntry => {
        if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw badField(`entries.${i}`, 'an object {key, value, ttl?}');
        const e = entry as Record<string, unknown>;
        const out: WriteEntry = { key: requireKey(e.key, `entries.${i}.key`, limits), value: requireValue(e.value, `entries.${i}.value`, limits) };
        if (e.ttl !== undefined) out.ttl = requireTtl(e.ttl, `entries.${i}.ttl`);
        return out;
      });
      return { id, op, entries };
    }
    default:
      if (BARE_OPS.has(op)) return { id, op: op as 'ring' };
      throw new CacheError('UNKNOWN_OP', `unknown op ${JSON.stringify(op.slice(0, 64))}`);
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
