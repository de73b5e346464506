/**
 * Bad input against a real peer process: garbage bytes, invalid JSON, unknown ops, wrong types,
 * oversized keys, values and frames, and non-peers knocking on the peer endpoint. Each gets a
 * typed error (or a 1009 close for an oversized frame) and the peer keeps serving everyone else.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { RawClient, exchangeFrame } from '../support/raw-client.js';

describe('bad input never crashes a peer', () => {
  let peer: PeerProcess;
  let bystander: RawClient;

  beforeAll(async () => {
    peer = await startPeerProcess(['--id', 'solo', '--max-key-bytes', '64', '--max-value-bytes', '1kb', '--max-frame-bytes', '64kb', '--rebalance-batch-bytes', '16kb']);
    bystander = await RawClient.connect(peer.url);
    expect(await bystander.call('set', { key: 'steady', value: 42 })).toMatchObject({ ok: true });
  });

  afterAll(async () => {
    await bystander?.close();
    await killAll([peer]);
  });

  async function assertStillServing(): Promise<void> {
    expect(await bystander.call('get', { key: 'steady' })).toMatchObject({ ok: true, found: true, value: 42 });
    expect(peer.child.exitCode).toBeNull();
  }

  it('answers garbage bytes and invalid JSON with BAD_REQUEST and id null', async () => {
    const client = await RawClient.connect(peer.url);
    client.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]));
    expect(await client.nextOrphan()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    client.sendRaw('{"id": 1, "op": "get", "key": ');
    expect(await client.nextOrphan()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    client.sendRaw('[]');
    expect(await client.nextOrphan()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    // A batch frame of things that are not requests: one error reply per element, in order.
    client.sendRaw('[1,"two",null]');
    const replies = await client.nextOrphan();
    expect(replies).toEqual([1, 2, 3].map(() => ({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'frame must be a JSON object' } })));
    client.sendRaw('{"op": "get", "key": "x"}');
    expect(await client.nextOrphan()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    await client.close();
    await assertStillServing();
  });

  it('answers unknown ops with UNKNOWN_OP and wrong types with BAD_REQUEST, echoing the id', async () => {
    const client = await RawClient.connect(peer.url);
    expect(await client.call('flushall')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_OP' } });
    expect(await client.call('get', { key: 12 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('get')).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('set', { key: 'k' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('set', { key: 'k', value: 1, ttl: -5 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('set', { key: 'k', value: 1, ttl: 1.5 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('incr', { key: 'k', by: 'one' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('mget', { keys: 'k' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await client.call('mset', { entries: [{ key: 'a' }] })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const stringId = await exchangeFrame(client.socket, JSON.stringify({ id: 'abc', op: 'nope' }), 10_000);
    expect(stringId).toMatchObject({ id: 'abc', ok: false, error: { code: 'UNKNOWN_OP' } });
    await client.close();
    await assertStillServing();
  });

  it('answers NOT_A_NUMBER for incr on a non-integer', async () => {
    const client = await RawClient.connect(peer.url);
    await client.call('set', { key: 'word', value: 'hello' });
    expect(await client.call('incr', { key: 'word' })).toMatchObject({ ok: false, error: { code: 'NOT_A_NUMBER' } });
    await client.call('set', { key: 'float', value: 1.5 });
    expect(await client.call('incr', { key: 'float' })).toMatchObject({ ok: false, error: { code: 'NOT_A_NUMBER' } });
    await client.call('set', { key: 'big', value: Number.MAX_SAFE_INTEGER });
    expect(await client.call('incr', { key: 'big' })).toMatchObject({ ok: false, error: { code: 'NOT_A_NUMBER' } });
    expect(await client.call('get', { key: 'word' })).toMatchObject({ ok: true, found: true, value: 'hello' });
    await client.close();
  });

  it('answers TOO_LARGE for an oversized key or value, and closes with 1009 on an oversized frame', async () => {
    const client = await RawClient.connect(peer.url);
    expect(await client.call('set', { key: 'k'.repeat(65), value: 1 })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    expect(await client.call('get', { key: 'é'.repeat(40) })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    expect(await client.call('set', { key: 'v', value: 'x'.repeat(2000) })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    const closed = new Promise<number>((resolve) => client.socket.once('close', (code) => resolve(code)));
    client.sendRaw(JSON.stringify({ id: 1, op: 'set', key: 'huge', value: 'x'.repeat(100 * 1024) }));
    expect(await closed).toBe(1009);
    await assertStillServing();
  });

  it('refuses something that is not a peer on the peer endpoint', async () => {
    const socket = new WebSocket(`${peer.url}/peer`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.send(JSON.stringify({ hello: 'I am a browser' }));
    const { code } = await closed;
    expect(code).toBe(4002);
    // a peer of another protocol version is refused too
    const other = new WebSocket(`${peer.url}/peer`);
    await new Promise((resolve) => other.once('open', resolve));
    const otherClosed = new Promise<number>((resolve) => other.once('close', (c) => resolve(c)));
    other.send(JSON.stringify({ t: 'hello', v: 999, from: { id: 'x', url: 'ws://127.0.0.1:1', state: 'alive', incarnation: 0, generation: 1 }, members: [] }));
    expect(await otherClosed).toBe(4001);
    await assertStillServing();
  });

  it('keeps serving many clients while one floods it with garbage', async () => {
    const flooder = await RawClient.connect(peer.url);
    for (let i = 0; i < 2000; i++) flooder.sendRaw(i % 2 ? '{{{{' : '{"id":1,"op":42}');
    const results = await Promise.all(Array.from({ length: 50 }, () => bystander.call('get', { key: 'steady' })));
    for (const r of results) expect(r).toMatchObject({ ok: true, found: true, value: 42 });
    await flooder.close();
    await assertStillServing();
  });
});
