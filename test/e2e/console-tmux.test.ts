/**
 * The real console, built (`node dist/cli/ringcache.js console URL`), in a detached 160x48 tmux
 * session against three real peer processes: commands typed with send-keys, the screen read
 * with capture-pane. Checks the command output, a kill -9 seen as suspect then dead with the
 * shares re-spread, a joining peer appearing with its share, and a clean quit.
 * Skipped (with a message) when tmux is not installed; CI installs it (.ci/run).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, FAST_FLAGS, killAll, startPeerProcess, type PeerProcess } from '../support/peer-process.js';
import { waitFor } from '../support/wait-for.js';
import { parseScreen, type ConsoleScreen } from './console-screen.js';
import { hasTmux, TmuxSession } from './tmux-session.js';

const TMUX = hasTmux();
if (!TMUX) console.warn('console-tmux.test.ts: tmux is not installed, so the full-screen console e2e test is SKIPPED (apt-get install tmux)');

/** Alive and suspect shares of the ring, summed (percent). */
function ringSum(screen: ConsoleScreen): number {
  return [...screen.rows.values()].filter((r) => r.state === 'alive' || r.state === 'suspect').reduce((sum, r) => sum + r.share, 0);
}

describe.skipIf(!TMUX)('ringcache console in tmux', () => {
  const peers: PeerProcess[] = [];
  let tmux: TmuxSession | undefined;
  let dir: string;
  let last = '';

  const screen = (): ConsoleScreen => {
    last = tmux!.capture();
    return parseScreen(last);
  };
  /** Polls the screen until `check` holds; on a timeout the error shows the last screen. */
  const waitForScreen = async (check: (s: ConsoleScreen) => boolean, what: string, deadlineMs = 10_000): Promise<ConsoleScreen> => {
    try {
      return await waitFor(() => {
        const s = screen();
        return check(s) ? s : undefined;
      }, deadlineMs, what, 50);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- screen ---\n${last}`);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ringcache-console-e2e-'));
    peers.push(await startPeerProcess(['--id', 'p1', ...FAST_FLAGS]));
    peers.push(...(await Promise.all(['p2', 'p3'].map((id) => startPeerProcess(['--id', id, '--bootstrap', peers[0]!.url, ...FAST_FLAGS])))));
    tmux = new TmuxSession('console');
    const consoleArgv = [process.execPath, CLI, 'console', peers[0]!.url, '--history', join(dir, 'history')];
    // sh reports the exit status on the screen once the console has left its alternate screen,
    // then stays a while: tmux may drop the last output of a pane whose program has exited.
    tmux.start(['sh', '-c', '"$@"; echo "console exited with status $?"; exec sleep 60', 'sh', ...consoleArgv], {
      columns: 160,
      rows: 48,
      // CI=true as CI runners set it: the console must still draw live in a terminal.
      env: { ...process.env, CI: 'true' },
    });
  });

  afterAll(async () => {
    tmux?.kill();
    await killAll(peers);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows every peer alive with about a third of the ring each', async () => {
    const s = await waitForScreen((s) => ['p1', 'p2', 'p3'].every((id) => s.rows.get(id)?.state === 'alive') && s.header.includes('connected'), 'three alive rows');
    expect(s.rows.get('p1')!.connected).toBe(true);
    for (const row of s.rows.values()) expect(row.share).toBeGreaterThan(15);
    expect(ringSum(s)).toBeCloseTo(100, 0);
    expect(s.strip).toMatch(/^[123]+$/);
    expect(s.strip).toMatch(/1/);
    expect(s.strip).toMatch(/2/);
    expect(s.strip).toMatch(/3/);
  });

  it('runs set and get, each with "served by"', async () => {
    tmux!.sendLine('set greeting hello');
    await waitForScreen((s) => /› set greeting hello\s+served by p1 in [\d.]+ ms\nOK$/m.test(s.text), 'the set result');
    tmux!.sendLine('get greeting');
    await waitForScreen((s) => /› get greeting\s+served by p1 in [\d.]+ ms\n"hello"$/m.test(s.text), 'the get result');
    tmux!.sendLine('get nothing-here');
    await waitForScreen((s) => /› get nothing-here\s+served by p1 in [\d.]+ ms\n\(nil\)$/m.test(s.text), 'the (nil) result');
  });

  it('completes a command with Tab and walks the history with Up', async () => {
    tmux!.sendKeys('-l', 'stat');
    tmux!.sendKeys('Tab');
    tmux!.sendKeys('Enter');
    await waitForScreen((s) => /› stats\s+served by p1 in [\d.]+ ms\nPEER +KEYS/m.test(s.text), 'the completed stats command');
    tmux!.sendKeys('Up', 'Up', 'Enter');
    await waitForScreen((s) => (s.text.match(/› get nothing-here/g) ?? []).length === 2, 'the recalled get');
    await waitFor(() => readFileSync(join(dir, 'history'), 'utf8').includes('get nothing-here\nstats\nget nothing-here\n'), 5000, 'the history file');
  });

  it('shows a kill -9 as suspect, then dead, and re-spreads the shares', async () => {
    peers[2]!.child.kill('SIGKILL');
    await waitForScreen((s) => s.rows.get('p3')?.state === 'suspect' || s.events.includes('p3 suspect'), 'p3 suspect');
    const s = await waitForScreen(
      (s) => s.rows.get('p3')?.state === 'dead' && s.rows.get('p3')?.share === 0 && s.events.some((e) => e.startsWith('p3 dead')),
      'p3 dead with 0.0%',
    );
    const suspectAt = s.events.indexOf('p3 suspect');
    const deadAt = s.events.findIndex((e) => /^p3 dead/.test(e));
    expect(suspectAt).toBeGreaterThanOrEqual(0);
    expect(deadAt).toBeGreaterThan(suspectAt);
    const after = await waitForScreen((s) => !s.strip.includes('3') && s.strip.length > 0, 'the strip without p3');
    expect(after.rows.get('p1')!.share + after.rows.get('p2')!.share).toBeCloseTo(100, 0);
    expect(after.header).toContain('2/3 alive');
  });

  it('shows a joining peer with its share', async () => {
    peers.push(await startPeerProcess(['--id', 'p4', '--bootstrap', peers[0]!.url, ...FAST_FLAGS]));
    const s = await waitForScreen((s) => s.rows.get('p4')?.state === 'alive' && s.rows.get('p4')!.share > 10 && s.strip.includes('4'), 'p4 alive with a share');
    expect(ringSum(s)).toBeCloseTo(100, 0);
    expect(s.events.some((e) => e.startsWith('p4 joined'))).toBe(true);
  });

  it('fails over when the peer it is connected to dies, and says so', async () => {
    peers[0]!.child.kill('SIGKILL');
    await waitForScreen((s) => s.events.some((e) => e.startsWith('connection lost')), 'the lost connection');
    const connectedTo = (s: ConsoleScreen): string | undefined => [...s.rows.values()].find((r) => r.connected)?.id;
    const s = await waitForScreen(
      (s) => s.events.some((e) => /^reconnected to ws:\/\/127\.0\.0\.1:\d+$/.test(e)) && s.header.includes('● connected') && /^p[24]$/.test(connectedTo(s) ?? ''),
      'the failover to p2 or p4',
    );
    const now = s.rows.get(connectedTo(s)!);
    expect(s.events.find((e) => e.startsWith('reconnected to'))).toBe(`reconnected to ${now!.url}`);
    tmux!.sendLine('get greeting');
    await waitForScreen((s) => new RegExp(`› get greeting\\s+served by ${now!.id} in [\\d.]+ ms\\n"hello"$`, 'm').test(s.text), 'get through the new peer');
  });

  it('quits with exit status 0', async () => {
    tmux!.sendLine('quit');
    await waitForScreen((s) => s.text.includes('console exited with status 0'), 'the console to exit with status 0');
  });
});
