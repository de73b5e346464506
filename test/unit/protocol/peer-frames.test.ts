import { describe, expect, it } from 'vitest';
import { isForwardedOp, parseLinkFrames, parseOpBody, parsePeerFrame } from '../../../src/protocol/peer-frames.js';

const member = { id: 'p1', url: 'ws://127.0.0.1:1', state: 'alive', incarnation: 0, generation: 1 };

describe('parseLinkFrames', () => {
  it('takes one frame or an array of req/res/gossip frames, in order', () => {
    const req = { t: 'req', id: 1, op: 'ops', body: { ops: [{ op: { op: 'get', key: 'k' }, hops: 1 }] } };
    const res = { t: 'res', id: 2, ok: false, error: { code: 'TIMEOUT', message: 'slow' } };
    const gossip = { t: 'gossip', g: [member] };
    expect(parseLinkFrames(JSON.stringify(req))).toEqual([req]);
    expect(parseLinkFrames(JSON.stringify([req, res, gossip]))).toEqual([req, res, gossip]);
  });

  it('refuses an empty array, a handshake frame inside an array, and any malformed frame', () => {
    const hello = { t: 'hello', v: 2, from: member, members: [member], placement: { vnodes: 8, replicas: 2 } };
    expect(parsePeerFrame(JSON.stringify(hello))).toEqual(hello);
    expect(parseLinkFrames('[]')).toBeUndefined();
    expect(parseLinkFrames(JSON.stringify([hello]))).toBeUndefined();
    expect(parseLinkFrames('[{"t":"req","id":1.5,"op":"ping","body":{}}]')).toBeUndefined();
    expect(parseLinkFrames('{"t":"res","id":1,"ok":false}')).toBeUndefined();
    expect(parseLinkFrames('{"t":"req","id":1,"op":"ping","body":{},"g":[{"id":""}]}')).toBeUndefined();
    expect(parseLinkFrames('{"t":"gossip"}')).toBeUndefined();
    expect(parseLinkFrames('not json')).toBeUndefined();
  });
});

describe('parseOpBody', () => {
  it('accepts the data-path bodies it documents and refuses mistyped ones', () => {
    // An ops body needs an array; each operation in it is checked on its own (isForwardedOp).
    expect(parseOpBody('ops', { ops: [{ op: { op: 'get', key: 'k' }, hops: 1 }, 'junk'] })).toBeDefined();
    expect(parseOpBody('ops', { ops: {} })).toBeUndefined();
    expect(parseOpBody('ops', [])).toBeUndefined();
    expect(isForwardedOp({ op: { op: 'set', key: 'k', value: '1', ttl: 5 }, hops: 0 })).toBe(true);
    expect(isForwardedOp({ op: { op: 'incr', key: 'k', by: 2 }, hops: 1, acting: true })).toBe(true);
    expect(isForwardedOp({ op: { op: 'set', key: 'k', value: 1 }, hops: 0 })).toBe(false);
    expect(isForwardedOp({ op: { op: 'expire', key: 'k', ttl: 0 }, hops: 0 })).toBe(false);
    expect(isForwardedOp({ op: { op: 'drop', key: 'k' }, hops: 0 })).toBe(false);
    expect(isForwardedOp({ op: { op: 'get', key: 'k' }, hops: -1 })).toBe(false);
    expect(isForwardedOp({ op: { op: 'get', key: 'k' }, hops: 0, acting: 'yes' })).toBe(false);
    expect(parseOpBody('replicate', { entries: [['k', '1', [1, 0, 'p1'], 0], ['t', null, [2, 1, 'p2'], 99]] })).toBeDefined();
    expect(parseOpBody('replicate', { entries: [['k', '1', [1, 0], 0]] })).toBeUndefined();
    expect(parseOpBody('handoff', { entries: [['k', 1, [1, 0, 'p1'], 0]] })).toBeUndefined();
    expect(parseOpBody('read', { keys: ['a', 'b'] })).toBeDefined();
    expect(parseOpBody('read', { keys: ['a', 2] })).toBeUndefined();
    expect(parseOpBody('push-pull', { members: [member] })).toBeDefined();
    expect(parseOpBody('push-pull', { members: [{ ...member, state: 'zombie' }] })).toBeUndefined();
    expect(parseOpBody('ping-req', { target: 'p2' })).toBeDefined();
    expect(parseOpBody('ping', null)).toBeUndefined();
  });
});
