/**
 * The line console on injected streams: plain and --json output against real peers, quit, the
 * exit code, and event lines of a live view following `watch on|off`.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheClient } from '../../../src/client/cache-client.js';
import { ClusterView } from '../../../src/console/cluster-view.js';
import { ConsoleSession, type ConsoleClient } from '../../../src/console/command-runner.js';
import { runLineConsole } from '../../../src/console/line-console.js';
import { formatViewEvent } from '../../../src/console/result-format.js';
import { testPeerConfig } from '../../../src/config.js';
import { Peer } from '../../../src/peer.js';
import { startInProcessCluster } from '../../support/in-process-cluster.js';

const base = testPeerConfig();

/** Runs the line console over `lines` and returns its exit code and output. */
async function runLines(options: { session: ConsoleSession; lines: string[]; json?: boolean; view?: ClusterView }): Promise<{ code: number; output: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  input.end(options.lines.map((line) => `${line}\n`).join(''));
  const code = await runLineConsole({ runner: options.session, input, output, json: options.json ?? false, view: options.view });
  return { code, output: text };
}

describe('line console against real peers', () => {
  let p1: Peer;
  let p2: Peer;
  let client: CacheClient;

  beforeAll(async () => {
    [p1, p2] = (await startInProcessCluster(['p1', 'p2'], base)) as [Peer, Peer];
    client = await CacheClient.connect(p1.advertisedUrl);
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([p1?.stop(), p2?.stop()]);
  });

  it('plain: one result per command, blank lines skipped, exit 0', async () => {
    const session = new ConsoleSession({ client });
    const { code, output } = await runLines({
      session,
      lines: ['set plain:k 42', 'get plain:k', '', '   ', 'incr plain:k', 'set plain:s "hi there"', 'mget plain:k plain:s plain:none', 'get plain:none'],
    });
    expect(code).toBe(0);
    expect(output).toBe(['OK', '42', '(integer) 43', 'OK', '1) 43\n2) "hi there"\n3) (nil)', '(nil)', ''].join('\n'));
  });

  it('plain: a failed command prints its error and makes the exit code 1; tables span lines', async () => {
    const session = new ConsoleSession({ client });
    const { code, output } = await runLines({ session, lines: ['set plain:w hello', 'incr plain:w', 'ring', 'get plain:w'] });
    expect(code).toBe(1);
    const lines = output.trimEnd().split('\n');
    expect(lines[0]).toBe('OK');
    expect(lines[1]).toMatch(/^\(error\) NOT_A_NUMBER: /);
    expect(lines[2]).toMatch(/^epoch \d+ {2}checksum /);
    expect(lines.at(-1)).toBe('"hello"');
  });

  it('--json: exactly one JSON line per command', async () => {
    const session = new ConsoleSession({ client });
    const { code, output } = await runLines({ session, json: true, lines: ['set json:k {"a": [1, 2]}', 'get json:k', '', 'get json:none', 'incr json:k', 'bogus', 'stats'] });
    expect(code).toBe(1);
    const lines = output.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    const replies = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(replies[0]).toEqual({ ok: true, command: 'set', servedBy: 'p1', ms: expect.any(Number), result: {} });
    expect(replies[1]).toEqual({ ok: true, command: 'get', servedBy: 'p1', ms: expect.any(Number), result: { found: true, value: { a: [1, 2] } } });
    expect(Object.keys(replies[1]!)).toEqual(['ok', 'command', 'servedBy', 'ms', 'result']);
    expect(replies[2]).toMatchObject({ ok: true, command: 'get', result: { found: false } });
    expect(replies[3]).toEqual({ ok: false, command: 'incr', error: { code: 'NOT_A_NUMBER', message: expect.any(String) } });
    expect(replies[4]).toEqual({ ok: false, command: 'bogus', error: { code: 'UNKNOWN_OP', message: "unknown command 'bogus' (try 'help')" } });
    expect(Object.keys((replies[5]!.result as { peers: object }).peers).sort()).toEqual(['p1', 'p2']);
  });

  it('stops at quit (or exit): later lines are not run', async () => {
    const session = new ConsoleSession({ client });
    const plain = await runLines({ session, lines: ['set quit:a 1', 'quit', 'set quit:b 2'] });
    expect(plain).toEqual({ code: 0, output: 'OK\n' });
    expect(await client.get('quit:b')).toBeUndefined();
    const json = await runLines({ session, json: true, lines: ['EXIT', 'set quit:b 2'] });
    expect(json.output).toBe('{"ok":true,"command":"exit","result":{}}\n');
    expect(await client.get('quit:b')).toBeUndefined();
  });

  it('--json: an unparseable line still gives one line, with command null', async () => {
    const session = new ConsoleSession({ client });
    const { output } = await runLines({ session, json: true, lines: ['"get k'] });
    expect(JSON.parse(output)).toEqual({ ok: false, command: null, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^unbalanced quotes/) } });
  });
});

describe('line console with a live view', () => {
  /** A client whose `ring` never answers: these commands never reach a cluster. */
  const idleClient = {
    url: 'ws://127.0.0.1:7000/',
    ring: () => Promise.reject(new Error('offline')),
    close: async () => undefined,
  } as unknown as ConsoleClient;

  function member(id: string, state: 'suspect' | 'dead') {
    return { peer: { id, url: 'ws://h:1', state, incarnation: 0 }, state };
  }

  it('prints the events logged so far, then each new one as it arrives, while watch is on', async () => {
    let t = new Date(2025, 0, 2, 12, 0, 0).getTime();
    const view = new ClusterView({ now: () => t });
    view.setConnection('connected', 'ws://127.0.0.1:7000');
    const session = new ConsoleSession({
      client: idleClient,
      extensions: [
        {
          commands: [
            {
              name: 'event',
              usage: 'event ID STATE',
              help: 'inject a member event',
              run: async ([id, state]) => {
                t += 1500;
                view.applyMember(member(id!, state as 'suspect' | 'dead'));
                return { ok: true, text: 'injected', json: {} };
              },
            },
          ],
        },
      ],
    });
    const { code, output } = await runLines({ session, view, lines: ['event p2 suspect', 'watch off', 'event p3 suspect', 'watch on', 'event p2 dead'] });
    expect(code).toBe(0);
    const at = (seconds: number) => new Date(2025, 0, 2, 12, 0, seconds).getTime();
    expect(output.split('\n')).toEqual([
      formatViewEvent({ at: at(0), level: 'info', text: 'connected to ws://127.0.0.1:7000' }),
      formatViewEvent({ at: at(1.5), level: 'warn', text: 'p2 suspect' }),
      'injected',
      'watch is off',
      'injected',
      'watch is on',
      formatViewEvent({ at: at(4.5), level: 'error', text: 'p2 dead after 3.0 s' }),
      'injected',
      '',
    ]);
    expect(output).toContain('12:00:01 warn  p2 suspect');
    expect(view.listenerCount('change')).toBe(0);
  });

  it('a runner that rejects still gets a result line and exit code 1', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    input.end('get k\n');
    const runner = { run: () => Promise.reject(new Error('boom')), complete: () => [] };
    expect(await runLineConsole({ runner, input, output, json: false })).toBe(1);
    expect(text).toBe('(error) INTERNAL: boom\n');
  });

  it('--json event lines', async () => {
    const view = new ClusterView({ now: () => 5 });
    view.applyMember(member('p9', 'dead'));
    const session = new ConsoleSession({ client: idleClient });
    const { output } = await runLines({ session, view, json: true, lines: ['watch'] });
    expect(output.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual([
      { event: { at: 5, level: 'error', text: 'p9 dead' } },
      { ok: true, command: 'watch', result: { watch: true } },
    ]);
  });
});
