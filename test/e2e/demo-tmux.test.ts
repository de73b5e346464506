/**
 * `ringcache demo` (what `npm start` runs), built, in a detached tmux session: the local cluster
 * comes up in the console, and the demo commands `add-peer`, `stop PEER`, `kill PEER` and `procs`
 * drive real peer processes (default timings: a kill -9 is dead in about 2.5 s). Quitting stops
 * every peer. Skipped (with a message) when tmux is not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/peer-process.js';
import { waitFor } from '../support/wait-for.js';
import { parseScreen, type ConsoleScreen } from './console-screen.js';
import { hasTmux, TmuxSession } from './tmux-session.js';

const TMUX = hasTmux();
if (!TMUX) console.warn('demo-tmux.test.ts: tmux is not installed, so the `ringcache demo` e2e test is SKIPPED (apt-get install tmux)');

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!TMUX)('ringcache demo in tmux', () => {
  let tmux: TmuxSession | undefined;
  let dir: string;
  let last = '';
  const pids = new Map<string, number>();
  // Ports rarely in use: below Linux's ephemeral range (32768-60999 by default), where the other
  // tests' sockets get their ports (a peer whose port is taken falls back to any free port, which
  // the check of p1's URL below would see).
  const basePort = 20_000 + Math.floor(Math.random() * 12_000);

  const waitForScreen = async (check: (s: ConsoleScreen) => boolean, what: string, deadlineMs = 15_000): Promise<ConsoleScreen> => {
    try {
      return await waitFor(() => {
        last = tmux!.capture();
        const s = parseScreen(last);
        return check(s) ? s : undefined;
      }, deadlineMs, what, 50);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- screen ---\n${last}`);
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ringcache-demo-e2e-'));
    tmux = new TmuxSession('demo');
    const argv = [process.execPath, CLI, 'demo', '--peers', '3', '--base-port', String(basePort), '--history', join(dir, 'history')];
    // TMPDIR: the peers' log file goes to the test's directory, removed afterwards.
    tmux.start(['sh', '-c', '"$@"; echo "demo exited with status $?"; exec sleep 60', 'sh', ...argv], { columns: 160, rows: 48, env: { ...process.env, TMPDIR: dir } });
  });

  afterAll(() => {
    tmux?.kill();
    // Whatever the demo did not stop (a failed test) must not outlive the run.
    for (const pid of pids.values()) if (running(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts three peers and opens the console on them', async () => {
    const s = await waitForScreen((s) => ['p1', 'p2', 'p3'].every((id) => s.rows.get(id)?.state === 'alive') && s.text.includes('Demo cluster:'), 'three alive peers');
    expect(s.text).toMatch(new RegExp(`Peer logs:\\s+${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ringcache-demo-\\d+\\.log`));
    expect(s.rows.get('p1')!.url).toBe(`ws://127.0.0.1:${basePort}`);
    tmux!.sendLine('procs');
    const procs = await waitForScreen((s) => /^p3 +ws:\S+ +pid \d+ +running$/m.test(s.text), 'the procs listing');
    for (const match of procs.text.matchAll(/^(p\d) +ws:\S+ +pid (\d+) +running$/gm)) pids.set(match[1]!, Number(match[2]));
    expect([...pids.keys()]).toEqual(['p1', 'p2', 'p3']);
  });

  it('add-peer starts a fourth peer that takes its share', async () => {
    tmux!.sendLine('add-peer');
    await waitForScreen((s) => /^p4 started on ws:\/\/127\.0\.0\.1:\d+\S* \(pid \d+\), joining through p1$/m.test(s.text), 'the add-peer result');
    const pid = /^p4 started on \S+ \(pid (\d+)\)/m.exec(last);
    pids.set('p4', Number(pid![1]));
    await waitForScreen((s) => s.rows.get('p4')?.state === 'alive' && s.rows.get('p4')!.share > 10, 'p4 with a share');
  });

  it('stop PEER leaves gracefully', async () => {
    tmux!.sendLine('stop p4');
    await waitForScreen((s) => /^p4 left and exited \(0\) after \d+ ms$/m.test(s.text), 'the stop result');
    await waitForScreen((s) => s.rows.get('p4')?.state === 'left' && s.rows.get('p4')!.share === 0, 'p4 left');
    expect(running(pids.get('p4')!)).toBe(false);
  });

  it('kill PEER is a kill -9: suspect, then dead', async () => {
    tmux!.sendLine('kill p2');
    await waitForScreen((s) => /^sent SIGKILL to p2 \(pid \d+\)$/m.test(s.text), 'the kill result');
    await waitForScreen((s) => s.rows.get('p2')?.state === 'dead' && s.events.includes('p2 suspect'), 'p2 dead');
    tmux!.sendLine('kill p2');
    await waitForScreen((s) => s.text.includes('(error) BAD_REQUEST: p2 is not running (killed)'), 'a second kill refused');
  });

  it('quit stops every peer and exits 0', async () => {
    tmux!.sendLine('quit');
    await waitForScreen((s) => s.text.includes('demo exited with status 0'), 'the demo to exit');
    expect(last).toContain('ringcache demo: stopping 2 peers (graceful leave)...');
    for (const [id, pid] of pids) expect(running(pid), `${id} (pid ${pid}) still running`).toBe(false);
  });
});
