/**
 * The peer's deadline on client requests (`--request-timeout`), with real peer processes: the
 * owner of some keys is frozen (SIGSTOP), so the requests forwarded to it never complete. A lone
 * request gets its own TIMEOUT reply; the requests of a batch frame share one deadline, and the
 * batch is answered once, with TIMEOUT in the slots of the requests that did not complete and
 * the replies of those that did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashRing } from '../../src/ring/hash-ring.js';
import { killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { RawClient, exchangeFrame, type Reply } from '../support/raw-client.js';
import { waitFor } from '../support/wait-for.js';

describe('client request deadlines', () => {
  let a: PeerProcess | undefined;
  let b: PeerProcess | undefined;
  let client: RawClient | undefined;

  beforeAll(async () => {
    // One copy per key, so a key of b's has nowhere else to go while b is frozen; a long
    // suspicion keeps b in a's ring (not dead) for the whole test however slow the machine.
    const slowDeath = ['--suspicion-min', '30000'];
    a = await startPeerProcess(['--id', 'a', '--replicas', '1', '--request-timeout', '400', ...slowDeath]);
    b = await startPeerProcess(['--id', 'b', '--replicas', '1', '--bootstrap', a.url, ...slowDeath]);
    client = await RawClient.connect(a.url);
    await waitFor(async () => ((await client!.call('ring')).ring as { peers: unknown[] }).peers.length === 2, 10_000, 'a two-peer ring at a');
  });

  afterAll(async () => {
    b?.child.kill('SIGCONT');
    await client?.close();
    await killAll([a, b]);
  });

  it('answers TIMEOUT for what a frozen owner never answers, a batch once, with its other replies', async () => {
    const view = (await client!.call('ring')).ring as { vnodes: number; replicas: number };
    const ring = new HashRing(['a', 'b'], { vnodes: view.vnodes, replicas: view.replicas });
    const keys = Array.from({ length: 100 }, (_, i) => `deadline-${i}`);
    const [mine] = keys.filter((key) => ring.primary(key) === 'a');
    const [theirs, theirs2, theirs3] = keys.filter((key) => ring.primary(key) === 'b');
    expect((await client!.call('set', { key: mine, value: 'here' })).ok).toBe(true);

    b!.child.kill('SIGSTOP');
    const batch = (await exchangeFrame(
      client!.socket,
      JSON.stringify([
        { id: 'b1', op: 'get', key: mine },
        { id: 'b2', op: 'get', key: theirs },
        { id: 'b3', op: 'set', key: theirs2, value: 1 },
        { id: 'b4', op: 'get', key: mine },
      ]),
      10_000,
    )) as Reply[];
    expect(batch.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      ['b1', true, undefined],
      ['b2', false, 'TIMEOUT'],
      ['b3', false, 'TIMEOUT'],
      ['b4', true, undefined],
    ]);
    expect(batch[0]).toMatchObject({ found: true, value: 'here' });
    expect(batch[1]!.error!.message).toContain('did not complete within 400 ms');
    expect(await client!.call('get', { key: theirs3 })).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });

    // Once b runs again, its keys are served as before.
    b!.child.kill('SIGCONT');
    await waitFor(async () => (await client!.call('get', { key: theirs })).ok === true, 10_000, 'b serving again');
  });
});
