/**
 * The console UI rendered with ink-testing-library (100 columns, 24 rows): the live view from a
 * stand-in view model, and the prompt driving a stand-in runner.
 */
import { EventEmitter } from 'node:events';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterViewState, CommandResult, CommandRunner, PeerRow } from '../../../src/console/console-types.js';
import { ConsoleApp, type ConsoleAppProps } from '../../../src/console/ui/console-app.js';
import { InputHistory } from '../../../src/console/ui/input-history.js';
import { waitFor } from '../../support/wait-for.js';

const NOW = new Date(2025, 0, 1, 12, 0, 5).getTime();
const ENTER = '\r';
const TAB = '\t';
const UP = '\u001B[A';
const CTRL_C = '\u0003';

const peer = (id: string, over: Partial<PeerRow> = {}): PeerRow => ({
  id,
  url: `ws://127.0.0.1:700${id.slice(1)}/`,
  state: 'alive',
  incarnation: 0,
  ownership: 1 / 3,
  keys: 10,
  opsPerSec: 2,
  connected: id === 'p1',
  ...over,
});

function viewState(over: Partial<ClusterViewState> = {}): ClusterViewState {
  return {
    url: 'ws://127.0.0.1:7001/',
    connection: 'connected',
    epoch: 7,
    checksum: '5660a1d7ffff',
    replicas: 2,
    peers: [peer('p1'), peer('p2'), peer('p3')],
    strip: ['p1', 'p1', 'p2', 'p2', 'p3', 'p3', 'p3', 'p1'],
    events: [{ at: NOW - 4000, level: 'info', text: 'connected to ws://127.0.0.1:7001' }],
    statsAt: NOW - 400,
    ...over,
  };
}

class FakeView extends EventEmitter {
  constructor(public state: ClusterViewState) {
    super();
  }
  update(over: Partial<ClusterViewState>): void {
    this.state = { ...this.state, ...over };
    this.emit('change');
  }
}

function fakeRunner(results: Record<string, CommandResult> = {}): CommandRunner & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    run: async (line) => {
      lines.push(line);
      return results[line] ?? { ok: true, text: 'OK', json: {}, servedBy: 'p1', ms: 1.25 };
    },
    complete: (line) => ['get', 'getset', 'set'].filter((name) => name.startsWith(line)),
  };
}

const mounted: Array<{ unmount(): void }> = [];
afterEach(() => {
  for (const app of mounted.splice(0)) app.unmount();
});

function mount(props: Partial<ConsoleAppProps> & Pick<ConsoleAppProps, 'runner' | 'view'>) {
  const app = render(createElement(ConsoleApp, { history: new InputHistory(), now: () => NOW, ...props }));
  mounted.push(app);
  // eslint-disable-next-line no-control-regex
  const screen = (): string => (app.lastFrame() ?? '').replace(/\u001B\[[0-9;]*m/g, '');
  // ink reads stdin on its own schedule; each key waits for the previous one to land.
  const type = async (...keys: string[]): Promise<void> => {
    for (const key of keys) {
      app.stdin.write(key);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { app, screen, type };
}

describe('ConsoleApp', () => {
  it('renders the live view: header, peer rows, strip and events', () => {
    const { screen } = mount({ runner: fakeRunner(), view: new FakeView(viewState()) });
    const text = screen();
    expect(text).toContain('ring 5660a1d7');
    expect(text).toContain('3/3 alive');
    expect(text).toContain('stats 0.4 s ago');
    expect(text).toMatch(/▶ 1 p1\s+ws:\/\/127\.0\.0\.1:7001\s+alive\s+0\s+█+.*33\.3%\s+10\s+2\.0\s+connected/);
    expect(text).toMatch(/2 p2 .* alive/);
    expect(text).toMatch(/ring 0 1+2+3+1+ 2\^32/);
    expect(text).toContain('12:00:01  connected to ws://127.0.0.1:7001');
    const lines = text.split('\n');
    expect(lines).toHaveLength(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('follows the view: a suspect, then dead peer, and the shares spreading', async () => {
    const view = new FakeView(viewState());
    const { screen } = mount({ runner: fakeRunner(), view });
    view.update({ peers: [peer('p1'), peer('p2', { state: 'suspect', unreachable: true, keys: undefined }), peer('p3')] });
    await waitFor(() => /2 p2 .* suspect .*slow\/unreachable/.test(screen()), 2000, 'p2 suspect');
    view.update({
      peers: [peer('p1', { ownership: 0.5 }), peer('p2', { state: 'dead', ownership: 0 }), peer('p3', { ownership: 0.5 })],
      strip: ['p1', 'p1', 'p3', 'p3', 'p3', 'p3', 'p3', 'p1'],
      events: [...view.state.events, { at: NOW, level: 'error', text: 'p2 dead after 2.0 s' }],
    });
    await waitFor(() => /2 p2 .* dead .* 0\.0%/.test(screen()), 2000, 'p2 dead');
    expect(screen()).toMatch(/1 p1 .* 50\.0%/);
    expect(screen()).toMatch(/ring 0 1+3+1+ 2\^32/);
    expect(screen()).toContain('p2 dead after 2.0 s');
  });

  it('shows a lost connection loudly', async () => {
    const view = new FakeView(viewState());
    const { screen } = mount({ runner: fakeRunner(), view });
    view.update({ connection: 'reconnecting' });
    await waitFor(() => screen().includes(' RECONNECTING '), 2000, 'RECONNECTING');
  });

  it('runs a command and shows its result with "served by"', async () => {
    const runner = fakeRunner({ 'get greeting': { ok: true, text: '"hello"', json: {}, servedBy: 'p2', ms: 0.8 } });
    const { screen, type } = mount({ runner, view: new FakeView(viewState()) });
    await type('get greeting', ENTER);
    await waitFor(() => screen().includes('served by p2 in 0.8 ms'), 2000, 'the result');
    expect(runner.lines).toEqual(['get greeting']);
    expect(screen()).toMatch(/› get greeting\s+served by p2 in 0\.8 ms\n"hello"/);
  });

  it('shows an error result', async () => {
    const runner = fakeRunner({ 'incr k': { ok: false, text: '(error) NOT_A_NUMBER: nope', json: {}, servedBy: 'p3', ms: 2 } });
    const { screen, type } = mount({ runner, view: new FakeView(viewState()) });
    await type('incr k', ENTER);
    await waitFor(() => screen().includes('(error) NOT_A_NUMBER: nope'), 2000, 'the error');
  });

  it('completes with Tab and lists several candidates', async () => {
    const runner = fakeRunner();
    const { screen, type } = mount({ runner, view: new FakeView(viewState()) });
    await type('s', TAB, 'k', ENTER);
    await waitFor(() => runner.lines.length === 1, 2000, 'the completed command');
    expect(runner.lines).toEqual(['set k']);
    await type('g', TAB);
    await waitFor(() => screen().includes('completions: get  getset'), 2000, 'the candidates');
    expect(screen()).toMatch(/› get\s*\n/);
  });

  it('recalls and saves the history', async () => {
    const onHistory = vi.fn();
    const runner = fakeRunner();
    const { type } = mount({ runner, view: new FakeView(viewState()), history: new InputHistory(['get old']), onHistory });
    await type(UP, ENTER);
    await waitFor(() => runner.lines.length === 1, 2000, 'the command');
    expect(runner.lines).toEqual(['get old']);
    await type('set k 1', ENTER);
    await waitFor(() => onHistory.mock.calls.length === 1, 2000, 'the history saved');
    expect(onHistory).toHaveBeenLastCalledWith(['get old', 'set k 1']);
  });

  it('runs a pasted block line by line, in order', async () => {
    const runner = fakeRunner();
    const { type } = mount({ runner, view: new FakeView(viewState()) });
    await type('set a 1\rset b 2\r');
    await waitFor(() => runner.lines.length === 2, 2000, 'two commands');
    expect(runner.lines).toEqual(['set a 1', 'set b 2']);
  });

  it('holds live-view updates while a command is in flight, and applies them after', async () => {
    let release: (result: CommandResult) => void = () => undefined;
    const runner: CommandRunner = { run: () => new Promise((resolve) => (release = resolve)), complete: () => [] };
    const view = new FakeView(viewState());
    const { screen, type } = mount({ runner, view });
    await type('get k', ENTER);
    await waitFor(() => screen().includes('running'), 2000, 'the running command');
    await new Promise((resolve) => setTimeout(resolve, 60));
    view.update({ connection: 'reconnecting' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(screen()).not.toContain('RECONNECTING');
    release({ ok: true, text: '(nil)', json: {}, servedBy: 'p1', ms: 0.5 });
    await waitFor(() => screen().includes(' RECONNECTING ') && screen().includes('served by p1 in 0.5 ms'), 2000, 'both updates');
  });

  it('quits on `quit` and on ctrl-c with an empty line, not with text typed', async () => {
    const onQuit = vi.fn();
    const runner = fakeRunner({ quit: { ok: true, text: '', json: {}, quit: true } });
    const first = mount({ runner, view: new FakeView(viewState()), onQuit });
    await first.type('get k', CTRL_C);
    expect(onQuit).not.toHaveBeenCalled();
    await waitFor(() => first.screen().includes('› \n') || /›\s*\n/.test(first.screen()), 2000, 'the line cleared');
    await first.type(CTRL_C);
    expect(onQuit).toHaveBeenCalledTimes(1);

    const onQuit2 = vi.fn();
    const second = mount({ runner, view: new FakeView(viewState()), onQuit: onQuit2 });
    await second.type('quit', ENTER);
    await waitFor(() => onQuit2.mock.calls.length === 1, 2000, 'quit');
  });
});
