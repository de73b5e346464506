/**
 * The logic of the one-shot client commands (`ringcache get|set|del|expire|ttl|incr|ring|stats`),
 * kept out of `cli/` so it is unit-testable: parsing command-line values and rendering replies
 * as text. Pure functions, no I/O.
 */
import { CacheError, toCacheError } from '../errors.js';
import type { ReplyFrame, RingInfo } from './cache-client.js';

/** The peer the commands talk to when neither `--url` nor `RINGCACHE_URL` is given. */
export const DEFAULT_URL = 'ws://127.0.0.1:7000';

/** The default `--url`: `RINGCACHE_URL` when set and not blank, else {@link DEFAULT_URL}. */
export function defaultUrl(env: Record<string, string | undefined>): string {
  const fromEnv = env.RINGCACHE_URL?.trim();
  return fromEnv ? fromEnv : DEFAULT_URL;
}

/**
 * Splits a `--url` value into URLs: comma-separated, blanks dropped, so
 * `--url ws://a:7000,ws://b:7000` gives the client a second peer to fail over to.
 * @throws CacheError BAD_CONFIG when no URL remains
 */
export function parseUrls(text: string): string[] {
  const urls = text.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (urls.length === 0) throw new CacheError('BAD_CONFIG', '--url: expected a ws:// URL');
  return urls;
}

/**
 * Reads the VALUE of `ringcache set`: JSON when it parses (`42`, `true`, `null`, `"x"`,
 * `{"a":1}`), else the text itself as a string (`hello`, `{oops`).
 */
export function parseCliValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Reads an integer argument written in decimal (an optional sign, digits; no `1e3`, `0x10`, `1.5`).
 * @param name the argument's name for the message, e.g. `--ttl`
 * @param min the smallest value accepted (1 for a TTL)
 * @throws CacheError BAD_REQUEST when the text is not such an integer, is below `min` or is not a safe integer
 */
export function parseIntegerArg(text: unknown, name: string, min = Number.MIN_SAFE_INTEGER): number {
  const raw = typeof text === 'number' ? String(text) : typeof text === 'string' ? text.trim() : '';
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    const expected = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer';
    throw new CacheError('BAD_REQUEST', `${name}: expected ${expected}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A value for the terminal: strings as they are, anything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

/** `error CODE: message`, the one line a failed command prints on stderr. */
export function formatError(error: unknown): string {
  const cacheError = error instanceof CacheError ? error : toCacheError(error);
  return `error ${cacheError.code}: ${cacheError.message}`;
}

/** `0.3333` -> `33.3%`; anything but a finite number -> `-`. */
export function formatOwnership(ownership: unknown): string {
  return typeof ownership === 'number' && Number.isFinite(ownership) ? `${(ownership * 100).toFixed(1)}%` : '-';
}

/**
 * Renders rows as columns separated by two spaces, each as wide as its widest cell; columns whose
 * index is in `rightAligned` are padded on the left. No trailing spaces.
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, column) => {
        const cell = cells[column] ?? '';
        return rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/**
 * The `ringcache ring` table: a summary line (epoch, checksum, replicas, vnodes, the answering
 * peer), then one row per member: id (`*` marks the answering peer), url, state, incarnation,
 * ownership in percent.
 *
 * ```
 * epoch 7  checksum 9f2c  replicas 2  vnodes 256  self a
 * ID  URL                  STATE  INCARNATION  OWNERSHIP
 * a*  ws://127.0.0.1:7000  alive            0      50.0%
 * ```
 */
export function formatRingTable(ring: RingInfo): string {
  const summary = `epoch ${String(ring.epoch)}  checksum ${String(ring.checksum)}  replicas ${String(ring.replicas)}  vnodes ${String(ring.vnodes)}  self ${String(ring.self)}`;
  const rows = ring.peers.map((peer) => [
    peer.id === ring.self ? `${peer.id}*` : peer.id,
    String(peer.url),
    String(peer.state),
    String(peer.incarnation),
    formatOwnership(peer.ownership),
  ]);
  return `${summary}\n${formatTable(['ID', 'URL', 'STATE', 'INCARNATION', 'OWNERSHIP'], rows, new Set([3, 4]))}`;
}

/**
 * The `ringcache stats` listing: one `name  value` line per counter, nested objects flattened to
 * dotted names (`store.keys`), arrays as JSON, names aligned.
 */
export function formatStats(stats: Record<string, unknown>): string {
  const rows: string[][] = [];
  const walk = (prefix: string, value: unknown): void => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [key, inner] of Object.entries(value)) walk(`${prefix}.${key}`, inner);
    } else {
      rows.push([prefix, formatValue(value)]);
    }
  };
  for (const [key, value] of Object.entries(stats)) walk(key, value);
  const width = Math.max(0, ...rows.map(([name]) => name!.length));
  return rows.map(([name, value]) => `${name!.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/**
 * Renders the reply of one op for a human:
 * - `get`: the value ({@link formatValue}), or `(nil)` when the key is missing
 * - `set`, `mset`, `watch`, `unwatch`: `OK`
 * - `del` / `expire`: `1` when a key was deleted / updated, else `0` (as redis-cli)
 * - `ttl`: ms left, `-1` without expiry, `-2` for a missing key; `incr`: the new value
 * - `ring`: {@link formatRingTable}; `stats`: {@link formatStats}
 * - any other op, or an unexpected shape: the reply's fields besides `id` and `ok`, as JSON
 */
export function formatReply(op: string, reply: ReplyFrame | Record<string, unknown>): string {
  switch (op) {
    case 'get':
      if (reply.found === false) return '(nil)';
      if (reply.found === true) return formatValue(reply.value);
      break;
    case 'set':
    case 'mset':
    case 'watch':
    case 'unwatch':
      return 'OK';
    case 'del':
      if (typeof reply.deleted === 'boolean') return reply.deleted ? '1' : '0';
      break;
    case 'expire':
      if (typeof reply.updated === 'boolean') return reply.updated ? '1' : '0';
      break;
    case 'ttl':
      if (typeof reply.ttl === 'number') return String(reply.ttl);
      break;
    case 'incr':
      if (typeof reply.value === 'number') return String(reply.value);
      break;
    case 'ring': {
      const ring = reply.ring as RingInfo | undefined;
      if (ring && typeof ring === 'object' && Array.isArray(ring.peers)) return formatRingTable(ring);
      break;
    }
    case 'stats':
      if (reply.stats && typeof reply.stats === 'object' && !Array.isArray(reply.stats)) return formatStats(reply.stats as Record<string, unknown>);
      break;
  }
  const { id: _id, ok: _ok, ...rest } = reply;
  return JSON.stringify(rest);
}
