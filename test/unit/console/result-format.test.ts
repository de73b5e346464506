import { describe, expect, it } from 'vitest';
import type { RingInfo } from '../../../src/client/cache-client.js';
import {
  displayUrl,
  formatClock,
  formatClusterStats,
  formatCount,
  formatEntry,
  formatError,
  formatInteger,
  formatList,
  formatMembers,
  formatPeerStats,
  formatRing,
  formatSeconds,
  formatServedBy,
  formatUptime,
  formatValue,
  formatViewEvent,
} from '../../../src/console/result-format.js';

const ring: RingInfo = {
  epoch: 3,
  checksum: '0da9278d',
  replicas: 2,
  vnodes: 64,
  self: 'p1',
  peers: [
    { id: 'p2', url: 'ws://127.0.0.1:7001', state: 'suspect', incarnation: 1, ownership: 0.3674 },
    { id: 'p1', url: 'ws://127.0.0.1:7000', state: 'alive', incarnation: 0, ownership: 0.6326 },
    { id: 'p10', url: 'ws://127.0.0.1:7010', state: 'dead', incarnation: 12, ownership: 0 },
  ],
};

describe('values', () => {
  it.each<[unknown, string]>([
    ['hello', '"hello"'],
    ['say "hi"', '"say \\"hi\\""'],
    [42, '42'],
    [null, 'null'],
    [true, 'true'],
    [{ a: 1, b: [1, 2] }, '{"a":1,"b":[1,2]}'],
    [undefined, '(nil)'],
  ])('formatValue(%j) -> %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it('formatEntry: (nil) for a missing key, null for a stored null', () => {
    expect(formatEntry({ found: false })).toBe('(nil)');
    expect(formatEntry({ found: true, value: null })).toBe('null');
    expect(formatEntry({ found: true, value: 'x' })).toBe('"x"');
  });

  it('integers, errors and lists as redis-cli prints them', () => {
    expect(formatInteger(42)).toBe('(integer) 42');
    expect(formatInteger(-2)).toBe('(integer) -2');
    expect(formatError('NOT_A_NUMBER', 'not an integer')).toBe('(error) NOT_A_NUMBER: not an integer');
    expect(formatList(['"a"', '(nil)'])).toBe('1) "a"\n2) (nil)');
    expect(formatList([])).toBe('(empty array)');
    expect(formatList(Array.from({ length: 10 }, (_, i) => String(i))).split('\n').slice(8)).toEqual([' 9) 8', '10) 9']);
  });

  it.each<[unknown, string]>([
    [1234567, '1,234,567'],
    [0, '0'],
    [undefined, '-'],
    [Number.NaN, '-'],
  ])('formatCount(%j) -> %s', (value, text) => {
    expect(formatCount(value)).toBe(text);
  });

  it.each<[number, string]>([
    [3140, '3.1'],
    [3150, '3.2'],
    [0, '0.0'],
    [-5, '0.0'],
    [12_000, '12.0'],
  ])('formatSeconds(%d) -> %s', (ms, text) => {
    expect(formatSeconds(ms)).toBe(text);
  });

  it.each<[unknown, string]>([
    [45_900, '45s'],
    [62_000, '1m 02s'],
    [3 * 3600_000 + 2 * 60_000, '3h 02m'],
    [2 * 86_400_000 + 4 * 3600_000, '2d 04h'],
    ['x', '-'],
  ])('formatUptime(%j) -> %s', (ms, text) => {
    expect(formatUptime(ms)).toBe(text);
  });
});

describe('tables', () => {
  it('ring: a summary line, then the ring members sorted by id with ownership in percent', () => {
    expect(formatRing(ring).split('\n')).toEqual([
      'epoch 3  checksum 0da9278d  replicas 2  vnodes 64  self p1',
      'ID   URL                  STATE    OWNERSHIP',
      'p1*  ws://127.0.0.1:7000  alive        63.3%',
      'p2   ws://127.0.0.1:7001  suspect      36.7%',
    ]);
  });

  it('members: every member with state and incarnation', () => {
    expect(formatMembers(ring).split('\n')).toEqual([
      'ID   URL                  STATE    INCARNATION',
      'p1*  ws://127.0.0.1:7000  alive              0',
      'p10  ws://127.0.0.1:7010  dead              12',
      'p2   ws://127.0.0.1:7001  suspect            1',
    ]);
  });

  it('cluster stats: one aligned row per peer, errors after the table', () => {
    const text = formatClusterStats({
      p2: { keys: 998, coordinator: { requests: 12, forwarded: 3 }, rebalance: { running: true }, hints: { pending: 0 }, links: 2, clients: 0, uptimeMs: 62_000 },
      p1: { keys: 1003, coordinator: { requests: 5120, forwarded: 2001 }, rebalance: { running: false }, hints: { pending: 4 }, links: 2, clients: 1, uptimeMs: 45_000 },
      p3: { error: { code: 'UNAVAILABLE', message: 'no link to peer p3' } },
    });
    expect(text.split('\n')).toEqual([
      'PEER   KEYS  REQUESTS  FORWARDED  REBALANCE  HINTS  LINKS  CLIENTS  UPTIME',
      'p1    1,003     5,120      2,001  idle           4      2        1  45s',
      'p2      998        12          3  running        0      2        0  1m 02s',
      'p3    (error) UNAVAILABLE: no link to peer p3',
    ]);
    expect(formatClusterStats({})).toBe('(no members)');
  });

  it('peer stats: dotted names', () => {
    expect(formatPeerStats({ id: 'p1', keys: 3, coordinator: { requests: 16 } })).toBe('id                    p1\nkeys                  3\ncoordinator.requests  16');
  });
});

describe('suffix, clock, events, urls', () => {
  it('formatServedBy', () => {
    expect(formatServedBy({ servedBy: 'p2', ms: 0.8 })).toBe('served by p2 in 0.8 ms');
    expect(formatServedBy({ servedBy: 'p2', ms: 12 })).toBe('served by p2 in 12.0 ms');
    expect(formatServedBy({ servedBy: 'p2' })).toBe('served by p2');
    expect(formatServedBy({ ms: 1.25 })).toBe('in 1.3 ms');
    expect(formatServedBy({})).toBe('');
  });

  it('formatClock and formatViewEvent use local time', () => {
    const at = new Date(2025, 0, 2, 9, 5, 3, 700).getTime();
    expect(formatClock(at)).toBe('09:05:03');
    expect(formatViewEvent({ at, level: 'warn', text: 'p2 suspect' })).toBe('09:05:03 warn  p2 suspect');
    expect(formatViewEvent({ at, level: 'error', text: 'p2 dead' })).toBe('09:05:03 error p2 dead');
  });

  it('displayUrl drops the lone trailing slash the client adds', () => {
    expect(displayUrl('ws://127.0.0.1:7000/')).toBe('ws://127.0.0.1:7000');
    expect(displayUrl('ws://127.0.0.1:7000')).toBe('ws://127.0.0.1:7000');
    expect(displayUrl('wss://h/path/')).toBe('wss://h/path/');
  });
});
