import { describe, expect, it } from 'vitest';
import type { RingInfo } from '../../../src/client/cache-client.js';
import {
  DEFAULT_URL,
  defaultUrl,
  formatError,
  formatOwnership,
  formatReply,
  formatRingTable,
  formatStats,
  formatTable,
  formatValue,
  parseCliValue,
  parseIntegerArg,
  parseUrls,
} from '../../../src/client/cli-format.js';
import { CacheError } from '../../../src/errors.js';

describe('parseCliValue', () => {
  it.each([
    ['42', 42],
    ['-1.5', -1.5],
    ['true', true],
    ['null', null],
    ['"quoted"', 'quoted'],
    ['{"a":[1,2]}', { a: [1, 2] }],
    ['[1,"x"]', [1, 'x']],
    ['hello', 'hello'],
    ['hello world', 'hello world'],
    ['{oops', '{oops'],
    ['', ''],
    ['007', '007'],
  ])('%j -> %j', (text, expected) => {
    expect(parseCliValue(text)).toEqual(expected);
  });
});

describe('parseIntegerArg', () => {
  it.each([
    ['5', 1, 5],
    ['+5', 1, 5],
    [' 60000 ', 1, 60000],
    ['-3', Number.MIN_SAFE_INTEGER, -3],
    ['0', 0, 0],
    [7, 1, 7],
  ])('%j (min %d) -> %d', (text, min, expected) => {
    expect(parseIntegerArg(text, 'ARG', min)).toBe(expected);
  });

  it.each([
    ['0', 1],
    ['-1', 0],
    ['1.5', Number.MIN_SAFE_INTEGER],
    ['1e3', 1],
    ['0x10', 1],
    ['abc', 1],
    ['', 1],
    ['9007199254740993', 1],
    [undefined, 1],
  ])('rejects %j (min %d) with BAD_REQUEST', (text, min) => {
    expect(() => parseIntegerArg(text, '--ttl', min)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining('--ttl') }));
  });
});

describe('defaultUrl and parseUrls', () => {
  it('takes RINGCACHE_URL when set, else the default', () => {
    expect(defaultUrl({ RINGCACHE_URL: 'ws://10.0.0.1:7100' })).toBe('ws://10.0.0.1:7100');
    expect(defaultUrl({ RINGCACHE_URL: '  ' })).toBe(DEFAULT_URL);
    expect(defaultUrl({})).toBe('ws://127.0.0.1:7000');
  });

  it('splits comma-separated URLs and rejects an empty list', () => {
    expect(parseUrls('ws://a:1, ws://b:2,')).toEqual(['ws://a:1', 'ws://b:2']);
    expect(() => parseUrls(' , ')).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});

describe('formatValue and formatError', () => {
  it.each([
    ['text', 'text'],
    [42, '42'],
    [null, 'null'],
    [{ a: 1 }, '{"a":1}'],
    [[1, 'x'], '[1,"x"]'],
    [undefined, 'undefined'],
  ])('%j -> %s', (value, expected) => {
    expect(formatValue(value)).toBe(expected);
  });

  it('prints error CODE: message', () => {
    expect(formatError(new CacheError('NOT_A_NUMBER', 'k does not hold an integer'))).toBe('error NOT_A_NUMBER: k does not hold an integer');
    expect(formatError(new Error('boom'))).toBe('error INTERNAL: boom');
  });
});

describe('formatTable', () => {
  it('aligns columns, right-aligns the chosen ones and leaves no trailing spaces', () => {
    const table = formatTable(['NAME', 'N', 'NOTE'], [['a', '1', ''], ['long-name', '100', 'x']], new Set([1]));
    expect(table.split('\n')).toEqual(['NAME         N  NOTE', 'a            1', 'long-name  100  x']);
  });
});

const ring: RingInfo = {
  epoch: 7,
  checksum: '9f2c',
  replicas: 2,
  vnodes: 256,
  self: 'a',
  peers: [
    { id: 'a', url: 'ws://127.0.0.1:7000', state: 'alive', incarnation: 0, ownership: 0.5 },
    { id: 'peer-b', url: 'ws://127.0.0.1:7001', state: 'suspect', incarnation: 12, ownership: 0.49951 },
    { id: 'c', url: 'ws://127.0.0.1:7002', state: 'dead', incarnation: 3, ownership: 0 },
  ],
};

describe('formatRingTable', () => {
  it('prints a summary and one row per member with ownership in percent', () => {
    expect(formatRingTable(ring).split('\n')).toEqual([
      'epoch 7  checksum 9f2c  replicas 2  vnodes 256  self a',
      'ID      URL                  STATE    INCARNATION  OWNERSHIP',
      'a*      ws://127.0.0.1:7000  alive              0      50.0%',
      'peer-b  ws://127.0.0.1:7001  suspect           12      50.0%',
      'c       ws://127.0.0.1:7002  dead               3       0.0%',
    ]);
  });

  it.each([
    [1, '100.0%'],
    [1 / 3, '33.3%'],
    [0, '0.0%'],
    [undefined, '-'],
    [Number.NaN, '-'],
  ])('ownership %j -> %s', (ownership, expected) => {
    expect(formatOwnership(ownership)).toBe(expected);
  });
});

describe('formatStats', () => {
  it('flattens nested counters to dotted names, aligned', () => {
    const text = formatStats({ requests: 10, store: { keys: 3, bytes: 120 }, peers: ['a', 'b'], empty: {} });
    expect(text.split('\n')).toEqual(['requests     10', 'store.keys   3', 'store.bytes  120', 'peers        ["a","b"]', 'empty        {}']);
  });

  it('prints nothing for no counters', () => {
    expect(formatStats({})).toBe('');
  });
});

describe('formatReply', () => {
  it.each([
    ['get', { found: true, value: 'v' }, 'v'],
    ['get', { found: true, value: { a: 1 } }, '{"a":1}'],
    ['get', { found: false }, '(nil)'],
    ['set', {}, 'OK'],
    ['del', { deleted: true }, '1'],
    ['del', { deleted: false }, '0'],
    ['expire', { updated: true }, '1'],
    ['expire', { updated: false }, '0'],
    ['ttl', { ttl: -2 }, '-2'],
    ['ttl', { ttl: 1500 }, '1500'],
    ['incr', { value: 42 }, '42'],
    ['stats', { stats: { requests: 1 } }, 'requests  1'],
    ['ping', { pong: true }, '{"pong":true}'],
    ['del', { unexpected: 1 }, '{"unexpected":1}'],
  ])('%s %j -> %s', (op, body, expected) => {
    expect(formatReply(op, { id: 1, ok: true, ...body })).toBe(expected);
  });

  it('renders the ring reply as the ring table', () => {
    expect(formatReply('ring', { id: 1, ok: true, ring })).toBe(formatRingTable(ring));
  });
});
