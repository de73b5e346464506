/**
 * How the console shows results, as redis-cli does: values as compact JSON (`"hello"`, `42`,
 * `{"a":1}`), `(nil)` for a missing key, `(integer) 42` for counts and numbers, `(error) CODE:
 * message` for failures, aligned tables for `ring`, `members` and `stats`, and the suffix line
 * `served by p2 in 0.8 ms`. Pure functions; no colour codes (the UI colours the text).
 */
import type { Entry, RingInfo } from '../client/cache-client.js';
import { formatOwnership, formatStats, formatTable } from '../client/cli-format.js';
import type { CommandResult, ViewEvent } from './console-types.js';

/** A stored value: compact JSON (a string quoted, `"hello"`); `(nil)` for `undefined`. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '(nil)';
  return JSON.stringify(value) ?? String(value);
}

/** A lookup: the value, or `(nil)` when the key is missing (a stored `null` shows as `null`). */
export function formatEntry(entry: Entry): string {
  return entry.found ? formatValue(entry.value) : '(nil)';
}

/** `(integer) 42`, redis-cli's form for counts, TTLs and `incr` results. */
export function formatInteger(value: number): string {
  return `(integer) ${String(value)}`;
}

/** `(error) CODE: message`. */
export function formatError(code: string, message: string): string {
  return `(error) ${code}: ${message}`;
}

/**
 * A numbered list, as redis-cli prints a multi-bulk reply; `(empty array)` for none.
 * ```
 * 1) "a"
 * 2) (nil)
 * ```
 */
export function formatList(items: readonly string[]): string {
  if (items.length === 0) return '(empty array)';
  const width = String(items.length).length;
  return items.map((item, index) => `${String(index + 1).padStart(width)}) ${item}`).join('\n');
}

/** `1234567` -> `1,234,567`; anything but a finite number -> `-`. */
export function formatCount(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString('en-US') : '-';
}

/** A duration in ms as seconds with one decimal: `3140` -> `3.1`. */
export function formatSeconds(ms: number): string {
  // Rounded in integer tenths first: 3150 ms is 3.2 s, where (3.15).toFixed(1) gives 3.1.
  return (Math.round(Math.max(0, ms) / 100) / 10).toFixed(1);
}

/** An uptime in ms, coarse: `45s`, `12m 05s`, `3h 02m`, `2d 04h`; `-` when not a number. */
export function formatUptime(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

/**
 * The `ring` table: a summary line, then the ring members (alive and suspect; `*` marks the
 * answering peer) with their share of the hash space as primary.
 * ```
 * epoch 3  checksum 0da9278d  replicas 2  vnodes 64  self p1
 * ID   URL                     STATE  OWNERSHIP
 * p1*  ws://127.0.0.1:34759    alive      63.3%
 * p2   ws://127.0.0.1:42613    alive      36.7%
 * ```
 */
export function formatRing(ring: RingInfo): string {
  const summary = `epoch ${ring.epoch}  checksum ${ring.checksum}  replicas ${ring.replicas}  vnodes ${ring.vnodes}  self ${ring.self}`;
  const members = ring.peers.filter((peer) => peer.state === 'alive' || peer.state === 'suspect');
  const rows = sortById(members).map((peer) => [markSelf(peer.id, ring.self), peer.url, peer.state, formatOwnership(peer.ownership)]);
  return `${summary}\n${formatTable(['ID', 'URL', 'STATE', 'OWNERSHIP'], rows, new Set([3]))}`;
}

/**
 * The `members` table: every member the answering peer knows, dead and left ones included.
 * ```
 * ID   URL                     STATE    INCARNATION
 * p1*  ws://127.0.0.1:34759    alive              0
 * p3   ws://127.0.0.1:40001    dead               2
 * ```
 */
export function formatMembers(ring: RingInfo): string {
  const rows = sortById(ring.peers).map((peer) => [markSelf(peer.id, ring.self), peer.url, peer.state, String(peer.incarnation)]);
  return formatTable(['ID', 'URL', 'STATE', 'INCARNATION'], rows, new Set([3]));
}

/**
 * The cluster-wide `stats` table, from a `cluster-stats` reply (`{[id]: stats | {error}}`): one
 * row per peer, sorted by id; a peer that did not answer gets `(error) CODE: message` after its id.
 * ```
 * PEER  KEYS   REQUESTS  FORWARDED  REBALANCE  HINTS  LINKS  CLIENTS  UPTIME
 * p1    1,003     5,120      2,001  idle           0      2        1  1m 02s
 * p3    (error) UNAVAILABLE: no link to peer p3
 * ```
 * REBALANCE is `running` or `idle`; HINTS the pending hints.
 */
export function formatClusterStats(peers: Record<string, Record<string, unknown>>): string {
  const ids = Object.keys(peers).sort(compareIds);
  const headers = ['PEER', 'KEYS', 'REQUESTS', 'FORWARDED', 'REBALANCE', 'HINTS', 'LINKS', 'CLIENTS', 'UPTIME'];
  const rows: string[][] = [];
  const failures: Array<[string, string]> = [];
  for (const id of ids) {
    const stats = peers[id] ?? {};
    const error = statsError(stats);
    if (error) {
      failures.push([id, formatError(error.code, error.message)]);
      continue;
    }
    const coordinator = asRecord(stats.coordinator);
    const rebalance = asRecord(stats.rebalance);
    const hints = asRecord(stats.hints);
    rows.push([
      id,
      formatCount(stats.keys),
      formatCount(coordinator.requests),
      formatCount(coordinator.forwarded),
      rebalance.running === true ? 'running' : rebalance.running === false ? 'idle' : '-',
      formatCount(hints.pending),
      formatCount(stats.links),
      formatCount(stats.clients),
      formatUptime(stats.uptimeMs),
    ]);
  }
  if (ids.length === 0) return '(no members)';
  const idWidth = Math.max(headers[0]!.length, ...ids.map((id) => id.length));
  const lines = rows.length > 0 ? [formatTable(headers, rows, new Set([1, 2, 3, 5, 6, 7]))] : [];
  for (const [id, text] of failures) lines.push(`${id.padEnd(idWidth)}  ${text}`);
  return lines.join('\n');
}

/** `stats PEER`: one `name  value` line per counter, nested names dotted (`coordinator.requests`). */
export function formatPeerStats(stats: Record<string, unknown>): string {
  return formatStats(stats);
}

/**
 * The suffix line under a result: `served by p2 in 0.8 ms`, `served by p2`, `in 0.8 ms`, or ''
 * when the result has neither (e.g. `help`).
 */
export function formatServedBy(result: Pick<CommandResult, 'servedBy' | 'ms'>): string {
  const parts: string[] = [];
  if (result.servedBy !== undefined) parts.push(`served by ${result.servedBy}`);
  if (result.ms !== undefined) parts.push(`in ${result.ms.toFixed(1)} ms`);
  return parts.join(' ');
}

/** A peer URL for display: `ws://127.0.0.1:7000/` (as the client normalizes it) -> `ws://127.0.0.1:7000`. */
export function displayUrl(url: string): string {
  return /^wss?:\/\/[^/]+\/$/.test(url) ? url.slice(0, -1) : url;
}

/** A wall-clock time as local `HH:MM:SS`. */
export function formatClock(at: number): string {
  const date = new Date(at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** One event-log line for a terminal without the live view: `12:00:03 warn  p2 suspect`. */
export function formatViewEvent(event: ViewEvent): string {
  return `${formatClock(event.at)} ${event.level.padEnd(5)} ${event.text}`;
}

/** The `{code, message}` of a stats entry that is an error (`{error: {code, message}}`), else undefined. */
export function statsError(stats: Record<string, unknown>): { code: string; message: string } | undefined {
  const error = stats.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : 'INTERNAL', message: typeof message === 'string' ? message : 'no stats' };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function markSelf(id: string, self: string): string {
  return id === self ? `${id}*` : id;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortById<T extends { id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => compareIds(a.id, b.id));
}
