/**
 * ConsoleSession: command dispatch and formatting against real in-process peers, plus completion,
 * timing and the extension hook with small doubles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheClient } from '../../../src/client/cache-client.js';
import { ConsoleSession, type ConsoleClient } from '../../../src/console/command-runner.js';
import type { ConsoleExtension } from '../../../src/console/console-commands.js';
import { testPeerConfig } from '../../../src/config.js';
import { CacheError } from '../../../src/errors.js';
import { Peer } from '../../../src/peer.js';
import { startInProcessCluster } from '../../support/in-process-cluster.js';

const base = testPeerConfig();

describe('ConsoleSession against real peers', () => {
  let p1: Peer;
  let p2: Peer;
  let client: CacheClient;
  let session: ConsoleSession;

  beforeAll(async () => {
    [p1, p2] = (await startInProcessCluster(['p1', 'p2'], base)) as [Peer, Peer];
    client = await CacheClient.connect(p1.advertisedUrl);
    session = new ConsoleSession({ client });
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([p1?.stop(), p2?.stop()]);
  });

  it('set and get a JSON value; servedBy names the connected peer, ms is rounded to 0.1', async () => {
    const set = await session.run('set user:1 {"name": "ada", "tags": ["x", "y"]}');
    expect(set).toMatchObject({ ok: true, text: 'OK', json: {}, servedBy: 'p1' });
    expect(set.ms).toBeGreaterThanOrEqual(0);
    expect(Math.round(set.ms! * 10) / 10).toBe(set.ms);
    const get = await session.run('get user:1');
    expect(get).toMatchObject({ ok: true, text: '{"name":"ada","tags":["x","y"]}', json: { found: true, value: { name: 'ada', tags: ['x', 'y'] } }, servedBy: 'p1' });
  });

  it.each([
    ['set s hello', '"hello"'],
    ['set s 42', '42'],
    [`set s '"42"'`, '"42"'],
    ['set s "two words"', '"two words"'],
    ['set s null', 'null'],
  ])('%s then get -> %s', async (line, shown) => {
    expect((await session.run(line)).ok).toBe(true);
    expect((await session.run('get s')).text).toBe(shown);
  });

  it('a missing key is (nil)', async () => {
    expect(await session.run('get nothing-here')).toMatchObject({ ok: true, text: '(nil)', json: { found: false } });
  });

  it('incr, and incr on a string is NOT_A_NUMBER', async () => {
    expect((await session.run('incr hits')).text).toBe('(integer) 1');
    expect(await session.run('INCR hits 41')).toMatchObject({ ok: true, text: '(integer) 42', json: { value: 42 } });
    await session.run('set word hello');
    const failed = await session.run('incr word');
    expect(failed.ok).toBe(false);
    expect(failed.text).toMatch(/^\(error\) NOT_A_NUMBER: /);
    expect(failed.json).toEqual({ error: { code: 'NOT_A_NUMBER', message: expect.any(String) } });
    expect(failed.servedBy).toBe('p1');
    expect(failed.ms).toBeGreaterThanOrEqual(0);
  });

  it('mset, mget, del', async () => {
    expect((await session.run('mset a 1 b {"c": [2]} c "three"')).text).toBe('OK');
    const mget = await session.run('mget a missing b c');
    expect(mget.text).toBe('1) 1\n2) (nil)\n3) {"c":[2]}\n4) "three"');
    expect(mget.json).toEqual({ values: [{ found: true, value: 1 }, { found: false }, { found: true, value: { c: [2] } }, { found: true, value: 'three' }] });
    expect(await session.run('del a b nope')).toMatchObject({ ok: true, text: '(integer) 2', json: { deleted: 2 } });
    expect((await session.run('mget a b')).text).toBe('1) (nil)\n2) (nil)');
  });

  it('expire, ttl and set with ttl', async () => {
    await session.run('set t v');
    expect((await session.run('ttl t')).text).toBe('(integer) -1');
    expect((await session.run('expire t 60000')).text).toBe('(integer) 1');
    const ttl = (await session.run('ttl t')).json as { ttl: number };
    expect(ttl.ttl).toBeGreaterThan(50_000);
    expect(ttl.ttl).toBeLessThanOrEqual(60_000);
    expect((await session.run('expire missing 1000')).text).toBe('(integer) 0');
    expect((await session.run('ttl missing')).text).toBe('(integer) -2');
    expect((await session.run('set short v TTL 5000')).text).toBe('OK');
    const short = (await session.run('ttl short')).json as { ttl: number };
    expect(short.ttl).toBeGreaterThan(0);
    expect(short.ttl).toBeLessThanOrEqual(5000);
  });

  it('ring and members tables', async () => {
    const ring = await session.run('ring');
    expect(ring.ok).toBe(true);
    const lines = ring.text.split('\n');
    expect(lines[0]).toMatch(/^epoch \d+ {2}checksum [0-9a-f]{8} {2}replicas 2 {2}vnodes \d+ {2}self p1$/);
    expect(lines[1]).toMatch(/^ID +URL +STATE +OWNERSHIP$/);
    expect(lines[2]).toMatch(/^p1\* +ws:\/\/127\.0\.0\.1:\d+ +alive +\d+\.\d%$/);
    expect(lines[3]).toMatch(/^p2 +ws:\/\/127\.0\.0\.1:\d+ +alive +\d+\.\d%$/);
    expect((ring.json as { ring: { peers: unknown[] } }).ring.peers).toHaveLength(2);
    const members = await session.run('members');
    expect(members.text.split('\n')[0]).toMatch(/^ID +URL +STATE +INCARNATION$/);
    expect((members.json as { members: Array<{ id: string }> }).members.map((m) => m.id)).toEqual(['p1', 'p2']);
  });

  it('stats: the cluster table, one peer, an unknown peer', async () => {
    const all = await session.run('stats');
    expect(all.ok).toBe(true);
    const lines = all.text.split('\n');
    expect(lines[0]).toMatch(/^PEER +KEYS +REQUESTS +FORWARDED +REBALANCE +HINTS +LINKS +CLIENTS +UPTIME$/);
    expect(lines.slice(1).map((line) => line.split(/ +/)[0])).toEqual(['p1', 'p2']);
    expect(Object.keys((all.json as { peers: object }).peers).sort()).toEqual(['p1', 'p2']);
    const one = await session.run('stats p2');
    expect(one.ok).toBe(true);
    expect(one.text).toMatch(/^coordinator\.requests +\d+$/m);
    expect((one.json as { stats: { id: string } }).stats.id).toBe('p2');
    const unknown = await session.run('stats p9');
    expect(unknown).toMatchObject({ ok: false, text: "(error) BAD_REQUEST: no ring member 'p9' (members: p1, p2)" });
  });

  it('usage errors, unknown commands and bad quoting never throw', async () => {
    expect(await session.run('get')).toEqual({
      ok: false,
      text: "(error) BAD_REQUEST: wrong arguments for 'get' (usage: get KEY)",
      json: { error: { code: 'BAD_REQUEST', message: "wrong arguments for 'get' (usage: get KEY)" } },
    });
    expect((await session.run('set k v 5000')).text).toBe("(error) BAD_REQUEST: wrong arguments for 'set' (usage: set KEY VALUE [ttl MS])");
    expect((await session.run('set k v ttl soon')).text).toBe('(error) BAD_REQUEST: ttl: expected a positive integer, got "soon"');
    expect((await session.run('mset a 1 b')).text).toMatch(/^\(error\) BAD_REQUEST: wrong arguments for 'mset'/);
    expect((await session.run('incr n 1.5')).text).toMatch(/^\(error\) BAD_REQUEST: BY: expected an integer/);
    expect((await session.run('watch maybe')).text).toMatch(/^\(error\) BAD_REQUEST: wrong arguments for 'watch'/);
    expect(await session.run('flushall')).toMatchObject({ ok: false, text: "(error) UNKNOWN_OP: unknown command 'flushall' (try 'help')" });
    expect(await session.run('get "k')).toMatchObject({ ok: false, text: '(error) BAD_REQUEST: unbalanced quotes: the " at column 5 is never closed' });
    expect(await session.run('connect ws://127.0.0.1:1')).toMatchObject({ ok: false, text: '(error) BAD_REQUEST: connect is not available in this console' });
    expect(await session.run('   ')).toEqual({ ok: true, text: '', json: {} });
  });

  it('help, watch, quit', async () => {
    const help = await session.run('help');
    expect(help.text.split('\n')[0]).toMatch(/^get KEY +read a key/);
    expect(help.text).toContain('set KEY VALUE [ttl MS]');
    expect((await session.run('help SET')).text).toMatch(/^set KEY VALUE \[ttl MS\]\n {2}write a key/);
    expect((await session.run('help nope')).ok).toBe(false);
    const toggles: boolean[] = [];
    session.on('watch', (on) => toggles.push(on));
    expect(session.watching).toBe(true);
    expect(await session.run('watch off')).toMatchObject({ ok: true, text: 'watch is off', json: { watch: false } });
    expect(session.watching).toBe(false);
    expect((await session.run('watch')).text).toBe('watch is off');
    await session.run('watch on');
    expect(toggles).toEqual([false, true]);
    expect(await session.run('quit')).toEqual({ ok: true, text: '', json: {}, quit: true });
    expect((await session.run('EXIT')).quit).toBe(true);
  });

  it('knows the connected peer from its first command', async () => {
    const fresh = await CacheClient.connect(p2.advertisedUrl);
    try {
      const other = new ConsoleSession({ client: fresh });
      expect((await other.run('get anything')).servedBy).toBe('p2');
    } finally {
      await fresh.close();
    }
  });

  it('connect URL swaps the client, closes the old one, and completes peer URLs', async () => {
    const first = await CacheClient.connect(p1.advertisedUrl);
    const swapped: string[] = [];
    const other = new ConsoleSession({ client: first, onConnect: (url) => CacheClient.connect(url, { timeoutMs: 1000 }) });
    other.on('client', (_client, url) => swapped.push(url));
    try {
      await other.run('ring');
      expect(other.complete('connect ws').sort()).toEqual([`connect ${p1.advertisedUrl}`, `connect ${p2.advertisedUrl}`].sort());
      const result = await other.run(`connect ${p2.advertisedUrl}`);
      expect(result).toMatchObject({ ok: true, text: `connected to ${p2.advertisedUrl}`, json: { url: p2.advertisedUrl } });
      expect(swapped).toEqual([p2.advertisedUrl]);
      expect(first.status).toBe('closed');
      expect(other.client).not.toBe(first);
      expect((await other.run('get x')).servedBy).toBe('p2');
      // A failed connect keeps the current client.
      const failed = await other.run('connect ws://127.0.0.1:1');
      expect(failed.ok).toBe(false);
      expect(failed.text).toMatch(/^\(error\) UNAVAILABLE: /);
      expect((await other.run('get x')).servedBy).toBe('p2');
    } finally {
      await first.close();
      await (other.client as CacheClient).close();
    }
  });
});

/** A client double: only what a test needs, failures for the rest. */
function fakeClient(overrides: Partial<Record<keyof ConsoleClient, unknown>> = {}): ConsoleClient {
  const unavailable = async (): Promise<never> => {
    throw new CacheError('UNAVAILABLE', 'fake');
  };
  return {
    url: 'ws://127.0.0.1:7000/',
    getEntry: async () => ({ found: false }),
    set: async () => undefined,
    del: async () => true,
    expire: unavailable,
    ttl: unavailable,
    incr: unavailable,
    mget: unavailable,
    mset: unavailable,
    ring: unavailable,
    clusterStats: unavailable,
    close: async () => undefined,
    ...overrides,
  } as unknown as ConsoleClient;
}

describe('ConsoleSession with a client double', () => {
  it('times commands with the injected clock, and falls back to the URL without a ring', async () => {
    const times = [100, 100.84];
    const session = new ConsoleSession({ client: fakeClient(), now: () => times.shift() ?? 0 });
    const result = await session.run('get k');
    expect(result).toMatchObject({ ok: true, text: '(nil)', ms: 0.8, servedBy: 'ws://127.0.0.1:7000' });
  });

  it('completes command names, keys (quoted when needed), fixed words, peers and commands', async () => {
    const ring = {
      epoch: 1,
      checksum: 'x',
      replicas: 2,
      vnodes: 8,
      self: 'p1',
      peers: [
        { id: 'p1', url: 'ws://h:1', state: 'alive', incarnation: 0, ownership: 0.5 },
        { id: 'p2', url: 'ws://h:2', state: 'alive', incarnation: 0, ownership: 0.5 },
        { id: 'p3', url: 'ws://h:3', state: 'dead', incarnation: 0, ownership: 0 },
      ],
    };
    const session = new ConsoleSession({ client: fakeClient({ ring: async () => ring }) });
    expect(session.complete('')).toContain('get');
    expect(session.complete('ge')).toEqual(['get']);
    expect(session.complete('m')).toEqual(['members', 'mget', 'mset']);
    expect(session.complete('E')).toEqual(['exit', 'expire']);
    await session.run('set user:1 x');
    await session.run('set user:2 x');
    await session.run('set "user 3" x');
    await session.run('del other');
    expect(session.complete('get us')).toEqual(['get "user 3"', 'get user:1', 'get user:2']);
    expect(session.complete('get "user ')).toEqual([]); // the quote is still open
    expect(session.complete('get "us')).toEqual(['get "user 3"', 'get user:1', 'get user:2']);
    expect(session.complete('get user:1 ')).toEqual([]); // get takes one key
    expect(session.complete('mget user:1 o')).toEqual(['mget user:1 other']);
    expect(session.complete('mset user:1 5 o')).toEqual(['mset user:1 5 other']);
    expect(session.complete('mset user:1 o')).toEqual([]); // a value position
    expect(session.complete('set user:1 5 t')).toEqual(['set user:1 5 ttl']);
    expect(session.complete('watch o')).toEqual(['watch off', 'watch on']);
    expect(session.complete('help mg')).toEqual(['help mget']);
    expect(session.complete('stats ')).toEqual(['stats p1', 'stats p2', 'stats p3']);
    expect(session.complete('connect ')).toEqual(['connect ws://h:1', 'connect ws://h:2']);
    expect(session.complete('ring ')).toEqual([]);
    expect(session.knownKeys).toEqual(['user:1', 'user:2', 'user 3', 'other']);
  });

  it('remembers a bounded number of keys, most recent kept', async () => {
    const session = new ConsoleSession({ client: fakeClient(), maxKeys: 3 });
    await session.run('get a');
    await session.run('get b');
    await session.run('get c');
    await session.run('get a');
    await session.run('get d');
    expect(session.knownKeys).toEqual(['c', 'a', 'd']);
  });

  it('runs extension commands, checks their arity, and turns their errors into results', async () => {
    const calls: string[][] = [];
    const demo: ConsoleExtension = {
      commands: [
        {
          name: 'kill',
          usage: 'kill PEER',
          help: 'kill a peer process',
          minArgs: 1,
          maxArgs: 1,
          argumentKind: 'peer',
          run: async (args) => {
            calls.push(args);
            return { ok: true, text: `killed ${args[0]}`, json: { killed: args[0] } };
          },
        },
        { name: 'add-peer', usage: 'add-peer', help: 'start one more peer', run: async () => Promise.reject(new CacheError('UNAVAILABLE', 'no ports left')) },
        { name: 'stop', usage: 'stop PEER', help: 'stop a peer', run: async () => Promise.reject(new Error('boom')) },
      ],
    };
    const session = new ConsoleSession({ client: fakeClient(), extensions: [demo] });
    expect(await session.run('kill p2')).toEqual({ ok: true, text: 'killed p2', json: { killed: 'p2' } });
    expect(calls).toEqual([['p2']]);
    expect((await session.run('kill')).text).toBe("(error) BAD_REQUEST: wrong arguments for 'kill' (usage: kill PEER)");
    expect((await session.run('add-peer')).text).toBe('(error) UNAVAILABLE: no ports left');
    expect((await session.run('stop p1')).text).toBe('(error) INTERNAL: boom');
    expect(session.complete('k')).toEqual(['kill']);
    expect(session.complete('ad')).toEqual(['add-peer']);
    expect((await session.run('help')).text).toMatch(/\nkill PEER +kill a peer process/);
    expect((await session.run('help kill')).text).toBe('kill PEER\n  kill a peer process');
    const help = (await session.run('help')).json as { commands: Array<{ name: string }> };
    expect(help.commands.map((c) => c.name)).toContain('add-peer');
  });
});
