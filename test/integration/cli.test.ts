/**
 * The built `ringcache` CLI (dist/cli/ringcache.js) as a user runs it: `--help` lists every peer
 * flag with its environment variable and default, bad flags and commands exit 2 with a one-line
 * reason, and the one-shot client commands talk to a real (in-process) peer on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEER_OPTIONS, testPeerConfig } from '../../src/config.js';
import { Peer } from '../../src/peer.js';
import { CLI } from '../support/peer-process.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args`; settles with its exit code and output (killed after 20 s). */
function ringcache(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ringcache CLI', () => {
  let peer: Peer;

  beforeAll(async () => {
    peer = await Peer.start({ id: 'cli' }, { base: testPeerConfig() });
  });

  afterAll(async () => {
    await peer.stop();
  });

  it('peer --help lists every flag with its environment variable and default', async () => {
    const run = await ringcache('peer', '--help');
    expect(run.code).toBe(0);
    const text = run.stdout.replace(/\s+/g, ' ');
    for (const option of PEER_OPTIONS) {
      expect(text).toContain(`--${option.flag}`);
      expect(text).toContain(option.env);
    }
    expect(text).toMatch(/--max-memory .*\[default: [^\]]+\]/);
  });

  it('exits 2 with a one-line reason for a bad flag value, an unknown flag and an unknown command', async () => {
    const badValue = await ringcache('peer', '--port', 'abc');
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('--port');
    const unknownFlag = await ringcache('get', 'k', '--url', peer.advertisedUrl, '--frobnicate');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain('frobnicate');
    const unknownCommand = await ringcache('frobnicate');
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("Run 'ringcache --help' for usage.");
  });

  it('set, get, ttl and del against a running peer', async () => {
    const url = peer.advertisedUrl;
    expect(await ringcache('set', 'greeting', '"hello"', '--ttl', '60000', '--url', url)).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect(await ringcache('get', 'greeting', '--url', url)).toMatchObject({ code: 0, stdout: 'hello\n' });
    const ttl = await ringcache('ttl', 'greeting', '--url', url);
    expect(ttl.code).toBe(0);
    expect(Number(ttl.stdout)).toBeGreaterThan(0);
    expect(Number(ttl.stdout)).toBeLessThanOrEqual(60_000);
    expect(await ringcache('del', 'greeting', '--url', url)).toMatchObject({ code: 0 });
    expect(await ringcache('get', 'greeting', '--url', url)).toMatchObject({ code: 0, stdout: '(nil)\n' });
  });
});
