/**
 * The real console CLI (`node dist/cli/ringcache.js console`) with its stdin piped, so not a
 * terminal: line mode, one result per command, plain and `--json`, and `--live` event lines,
 * against real peer processes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, FAST_FLAGS, killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the console with `input` on stdin; resolves when it exits (killed after `timeoutMs`). */
function runConsole(args: string[], input: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'console', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`console did not exit within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ringcache console in line mode (stdin not a terminal)', () => {
  const peers: PeerProcess[] = [];
  let dir: string;
  let history: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ringcache-line-e2e-'));
    history = join(dir, 'history');
    peers.push(await startPeerProcess(['--id', 'p1', ...FAST_FLAGS]));
    peers.push(await startPeerProcess(['--id', 'p2', '--bootstrap', peers[0]!.url, ...FAST_FLAGS]));
  });

  afterAll(async () => {
    await killAll(peers);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one plain result per command and exits 0', async () => {
    const input = ['set line:k 42', 'incr line:k', 'get line:k', '', 'get line:missing', 'set line:s "a b"', 'get line:s', 'del line:k line:missing', 'get line:k'].join('\n');
    const run = await runConsole([peers[0]!.url, '--history', history], `${input}\n`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toEqual(['OK', '(integer) 43', '43', '(nil)', 'OK', '"a b"', '(integer) 1', '(nil)', '']);
  });

  it('prints one JSON object per command with --json, and exits 1 when a command failed', async () => {
    const input = 'set line:j {"a": [1, 2]}\nget line:j\nincr line:j\nbogus\nquit\nget line:j\n';
    const run = await runConsole([peers[1]!.url, '--json'], input);
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ ok: true, command: 'set', servedBy: 'p2', result: {} });
    expect(lines[0]!.ms).toEqual(expect.any(Number));
    expect(lines[1]).toMatchObject({ ok: true, command: 'get', servedBy: 'p2', result: { found: true, value: { a: [1, 2] } } });
    expect(lines[2]).toMatchObject({ ok: false, command: 'incr', error: { code: 'NOT_A_NUMBER' } });
    expect(lines[3]).toMatchObject({ ok: false, command: 'bogus', error: { code: 'UNKNOWN_OP' } });
    expect(lines[4]).toMatchObject({ ok: true, command: 'quit' });
  });

  it('takes several URLs and fails over past a dead one', async () => {
    const run = await runConsole(['ws://127.0.0.1:1', peers[0]!.url, '--json'], 'get line:missing\n');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, command: 'get', servedBy: 'p1', result: { found: false } });
  });

  it('reads the URL from RINGCACHE_URL', async () => {
    const run = await runConsole(['--json'], 'get line:missing\n', { RINGCACHE_URL: peers[1]!.url });
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, servedBy: 'p2' });
  });

  it('prints the event log with --live', async () => {
    const run = await runConsole([peers[0]!.url, '--live', '--json'], 'get line:missing\n');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: { level: 'info', text: expect.stringMatching(/^connected to ws:\/\/127\.0\.0\.1:\d+$/) } });
    expect(lines.at(-1)).toMatchObject({ ok: true, command: 'get' });
  });

  it('exits 1 with a message when no peer answers', async () => {
    const run = await runConsole(['ws://127.0.0.1:1'], 'get k\n');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^ringcache console: \(error\) UNAVAILABLE: /);
  });

  it('exits 2 for a malformed URL', async () => {
    const run = await runConsole(['not-a-url'], 'get k\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/BAD_CONFIG/);
  });
});
