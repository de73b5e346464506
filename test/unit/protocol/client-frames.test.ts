import { describe, expect, it } from 'vitest';
import { decodeClientFrame, encodeErrorReply, encodeGetHitReply, encodeOkReply, parseClientFrame, parseClientRequest } from '../../../src/protocol/client-frames.js';

const limits = { maxKeyBytes: 16, maxValueBytes: 64 };

function errorCode(text: string): string | undefined {
  const parsed = parseClientFrame(text, limits);
  return parsed.ok ? undefined : parsed.error.code;
}

describe('parseClientFrame', () => {
  it.each([
    ['not json', 'BAD_REQUEST'],
    ['', 'BAD_REQUEST'],
    ['null', 'BAD_REQUEST'],
    ['[]', 'BAD_REQUEST'],
    ['"get"', 'BAD_REQUEST'],
    ['{"op":"get","key":"a"}', 'BAD_REQUEST'],
    ['{"id":true,"op":"get","key":"a"}', 'BAD_REQUEST'],
    ['{"id":{},"op":"get","key":"a"}', 'BAD_REQUEST'],
    ['{"id":1}', 'BAD_REQUEST'],
    ['{"id":1,"op":7}', 'BAD_REQUEST'],
    ['{"id":1,"op":"flushall"}', 'UNKNOWN_OP'],
    ['{"id":1,"op":"__proto__"}', 'UNKNOWN_OP'],
    ['{"id":1,"op":"toString"}', 'UNKNOWN_OP'],
    ['{"id":1,"op":"get"}', 'BAD_REQUEST'],
    ['{"id":1,"op":"get","key":5}', 'BAD_REQUEST'],
    ['{"id":1,"op":"set","key":"a"}', 'BAD_REQUEST'],
    ['{"id":1,"op":"set","key":"a","value":1,"ttl":0}', 'BAD_REQUEST'],
    ['{"id":1,"op":"set","key":"a","value":1,"ttl":"5"}', 'BAD_REQUEST'],
    ['{"id":1,"op":"expire","key":"a"}', 'BAD_REQUEST'],
    ['{"id":1,"op":"incr","key":"a","by":1.5}', 'BAD_REQUEST'],
    ['{"id":1,"op":"incr","key":"a","by":9007199254740993}', 'BAD_REQUEST'],
    ['{"id":1,"op":"mget","keys":[]}', 'BAD_REQUEST'],
    ['{"id":1,"op":"mget","keys":["a",2]}', 'BAD_REQUEST'],
    ['{"id":1,"op":"mset","entries":[{"key":"a"}]}', 'BAD_REQUEST'],
    ['{"id":1,"op":"get","key":"aaaaaaaaaaaaaaaaa"}', 'TOO_LARGE'],
    ['{"id":1,"op":"get","key":"ééééééééé"}', 'TOO_LARGE'],
    [`{"id":1,"op":"set","key":"a","value":"${'x'.repeat(63)}"}`, 'TOO_LARGE'],
    [`{"id":1,"op":"mset","entries":[{"key":"a","value":1},{"key":"${'k'.repeat(17)}","value":1}]}`, 'TOO_LARGE'],
  ])('rejects %s with %s', (text, code) => {
    expect(errorCode(text)).toBe(code);
  });

  it('echoes the id of a request it can read, and null when it cannot', () => {
    const unknown = parseClientFrame('{"id":"x-1","op":"nope"}', limits);
    expect(unknown).toMatchObject({ ok: false, id: 'x-1' });
    const garbage = parseClientFrame('\u0000\u00ff', limits);
    expect(garbage).toMatchObject({ ok: false, id: null });
  });

  it('carries values as JSON text and defaults incr by 1', () => {
    const set = parseClientFrame('{"id":1,"op":"set","key":"a","value":{"b":[1,"2",null]},"ttl":500}', limits);
    expect(set).toEqual({ ok: true, request: { id: 1, op: 'set', key: 'a', value: '{"b":[1,"2",null]}', ttl: 500 } });
    const falsy = parseClientFrame('{"id":1,"op":"set","key":"a","value":null}', limits);
    expect(falsy).toMatchObject({ ok: true, request: { value: 'null' } });
    const incr = parseClientFrame('{"id":2,"op":"incr","key":"n"}', limits);
    expect(incr).toEqual({ ok: true, request: { id: 2, op: 'incr', key: 'n', by: 1 } });
    const mset = parseClientFrame('{"id":3,"op":"mset","entries":[{"key":"a","value":"x","ttl":10}]}', limits);
    expect(mset).toEqual({ ok: true, request: { id: 3, op: 'mset', entries: [{ key: 'a', value: '"x"', ttl: 10 }] } });
  });

  it('accepts the cluster ops without fields', () => {
    for (const op of ['ring', 'watch', 'unwatch', 'stats', 'ping']) {
      expect(parseClientFrame(JSON.stringify({ id: 9, op }), limits)).toEqual({ ok: true, request: { id: 9, op } });
    }
  });
});

describe('reply encoding', () => {
  it('produces the documented shapes', () => {
    expect(JSON.parse(encodeOkReply(1, { found: false }))).toEqual({ id: 1, ok: true, found: false });
    expect(JSON.parse(encodeOkReply('a', undefined))).toEqual({ id: 'a', ok: true });
    expect(JSON.parse(encodeOkReply(2, {}))).toEqual({ id: 2, ok: true });
    expect(JSON.parse(encodeGetHitReply(3, '{"x":[1]}'))).toEqual({ id: 3, ok: true, found: true, value: { x: [1] } });
    expect(JSON.parse(encodeErrorReply(null, { code: 'BAD_REQUEST', message: 'm' }))).toEqual({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'm' } });
  });
});

describe('decodeClientFrame (batch frames)', () => {
  it('tells a single request from a batch, and refuses empty and over-long batches', () => {
    expect(decodeClientFrame('{"id":1,"op":"ping"}')).toEqual({ kind: 'single', raw: { id: 1, op: 'ping' } });
    expect(decodeClientFrame('[{"id":1,"op":"ping"},2]')).toEqual({ kind: 'batch', raws: [{ id: 1, op: 'ping' }, 2] });
    const empty = decodeClientFrame('[]');
    expect(empty.kind === 'error' && empty.error.code).toBe('BAD_REQUEST');
    const long = decodeClientFrame(JSON.stringify([1, 2, 3]), 2);
    expect(long.kind === 'error' && long.error.code).toBe('TOO_LARGE');
    const garbage = decodeClientFrame('[1,');
    expect(garbage.kind === 'error' && garbage.error.code).toBe('BAD_REQUEST');
  });

  it('validates each element of a batch on its own', () => {
    const decoded = decodeClientFrame('[{"id":1,"op":"get","key":"a"},{"id":2,"op":"get"},7]');
    expect(decoded.kind).toBe('batch');
    const results = (decoded as { raws: unknown[] }).raws.map((raw) => parseClientRequest(raw, limits));
    expect(results[0]).toEqual({ ok: true, request: { id: 1, op: 'get', key: 'a' } });
    expect(results[1]).toMatchObject({ ok: false, id: 2, error: { code: 'BAD_REQUEST', message: 'key: expected a string' } });
    expect(results[2]).toMatchObject({ ok: false, id: null, error: { code: 'BAD_REQUEST' } });
  });

  it('names the field in the message of a mistyped request', () => {
    const message = (text: string): string | undefined => {
      const parsed = parseClientFrame(text, limits);
      return parsed.ok ? undefined : parsed.error.message;
    };
    expect(message('{"id":1,"op":"set","key":"a","value":1,"ttl":-1}')).toMatch(/^ttl: expected a positive integer/);
    expect(message('{"id":1,"op":"mset","entries":[{"key":"a","value":1},{"key":3,"value":1}]}')).toBe('entries.1.key: expected a string');
    expect(message('{"id":1,"op":"mget","keys":[]}')).toBe('keys: expected a non-empty array of strings');
    expect(message('{"id":1,"op":"set","key":"a"}')).toBe('value is required');
  });
});
