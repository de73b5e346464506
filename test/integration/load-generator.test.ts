/**
 * Smoke test of the benchmark's load generator (bench/load-generator.ts) against the real bare
 * `ws` server process (dist/bench/bare-ws-server.js): it preloads, counts every answered request,
 * tells misses from errors, and stops at its request bound. No timing is asserted: speed is the
 * benchmark's business (`npm run bench`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadSession, preload, type LoadKeys, type LoadTarget } from '../../bench/load-generator.js';

const BARE_SERVER = fileURLToPath(new URL('../../dist/bench/bare-ws-server.js', import.meta.url));

/** Starts the built bare server and resolves with its URL once it printed its ready line. */
function startBareServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BARE_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare-ws-server not ready within 10 s')), 10_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const match = /^bare-ws-server listening on (ws:\/\/\S+)$/.exec(line);
      if (match) resolve({ child, url: match[1]! });
      else reject(new Error(`unexpected line: ${line}`));
    });
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

describe('load generator against the bare ws server', () => {
  let server: { child: ChildProcess; url: string } | undefined;
  let session: LoadSession | undefined;

  afterEach(async () => {
    await session?.close();
    session = undefined;
    await stop(server?.child);
    server = undefined;
  });

  it('preloads with batch frames, then counts every GET and SET up to the request bound', async () => {
    server = await startBareServer();
    const keys: LoadKeys = { keyCount: 1000, valueBytes: 100 };
    for (const mode of ['raw', 'batch'] as const) {
      const target: LoadTarget = { kind: 'ws', mode, urls: [server.url] };
      expect(await preload(target, keys)).toMatchObject({ entries: 1000, via: 'batch' });
      session = await LoadSession.open(target, { connections: 3, pipeline: 4 }, keys);
      const get = await session.run({ op: 'get', maxOps: 500, maxMs: 60_000 });
      expect(get).toMatchObject({ op: 'get', ops: 500, errors: 0, misses: 0, stoppedByTime: false });
      expect(get.latencyUs.p50).toBeGreaterThan(0);
      expect(get.latencyUs.p99).toBeGreaterThanOrEqual(get.latencyUs.p50);
      const set = await session.run({ op: 'set', maxOps: 301, maxMs: 60_000 });
      expect(set).toMatchObject({ op: 'set', ops: 301, errors: 0, misses: 0 });
      await session.close();
      session = undefined;
    }
  });

  it('counts GETs of keys never written as misses, not errors', async () => {
    server = await startBareServer();
    const target: LoadTarget = { kind: 'ws', mode: 'raw', urls: [server.url] };
    session = await LoadSession.open(target, { connections: 2, pipeline: 2 }, { keyCount: 100, indices: [7, 8, 9], valueBytes: 10 });
    const get = await session.run({ op: 'get', maxOps: 200, maxMs: 60_000 });
    expect(get).toMatchObject({ ops: 200, misses: 200, errors: 0 });
  });

  it('sends each connection only the keys of its own URL when given indicesPerUrl', async () => {
    server = await startBareServer();
    const other = await startBareServer();
    try {
      const keys: LoadKeys = { keyCount: 20, valueBytes: 10 };
      const first = Array.from({ length: 10 }, (_, i) => i);
      const second = Array.from({ length: 10 }, (_, i) => i + 10);
      // Each server holds only its own half: a key sent to the wrong one would be a miss.
      await preload({ kind: 'ws', mode: 'raw', urls: [server.url] }, { ...keys, indices: first });
      await preload({ kind: 'ws', mode: 'raw', urls: [other.url] }, { ...keys, indices: second });
      session = await LoadSession.open({ kind: 'ws', mode: 'raw', urls: [server.url, other.url], indicesPerUrl: [first, second] }, { connections: 4, pipeline: 2 }, keys);
      const get = await session.run({ op: 'get', maxOps: 400, maxMs: 60_000 });
      expect(get).toMatchObject({ ops: 400, misses: 0, errors: 0 });
    } finally {
      await session?.close();
      session = undefined;
      await stop(other.child);
    }
  });

  it('counts requests to a server that went away as errors, each once', async () => {
    server = await startBareServer();
    const target: LoadTarget = { kind: 'ws', mode: 'raw', urls: [server.url] };
    session = await LoadSession.open(target, { connections: 2, pipeline: 3 }, { keyCount: 100, valueBytes: 10 });
    await stop(server.child);
    const get = await session.run({ op: 'get', maxOps: 150, maxMs: 60_000, requestTimeoutMs: 5000 });
    expect(get).toMatchObject({ ops: 150, errors: 150, misses: 0 });
    expect(get.firstError).toBeDefined();
  });
});
