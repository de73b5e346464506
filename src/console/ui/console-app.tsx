/**
 * The interactive console, as one ink component: the live view of the cluster on top (peer rows,
 * ring strip, event log), then the output of recent commands and the prompt.
 *
 * It only renders {@link ClusterViewState} (re-rendering on the view's `change` event and once a
 * second for the ages it shows) and sends lines to a {@link CommandRunner}; it never talks to the
 * cluster itself, so a slow or dead peer cannot freeze it. Commands run one at a time in the order
 * entered; typing goes on while one runs. Drawing a frame takes milliseconds on this thread, so
 * the app keeps frames out of a command's round trip (see SEND_DELAY_MS and HOLD_MS): the time
 * shown is the cluster's, not the UI's.
 */
import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ClusterViewState, CommandResult, CommandRunner } from '../console-types.js';
import { formatError } from '../result-format.js';
import { MAX_ENTRIES, outputLines, visibleLines, wrapText, type OutputEntry, type OutputLine } from './command-output.js';
import { EventLogView } from './event-log-view.js';
import { HeaderBar } from './header-bar.js';
import type { InputHistory } from './input-history.js';
import { keyToActions, type KeyAction } from './key-bindings.js';
import { EMPTY_LINE, editLine, lineAt, type LineState } from './line-editor.js';
import { OutputPane } from './output-pane.js';
import { PeerPalette } from './peer-palette.js';
import { tableLayout } from './peer-table.js';
import { PeerTableView } from './peer-table-view.js';
import { PromptLine } from './prompt-line.js';
import { RingStripView } from './ring-strip-view.js';
import { computeLayout } from './screen-layout.js';
import { SectionTitle } from './section-title.js';
import { applyCompletion } from './tab-completion.js';
import { useTerminalSize } from './use-terminal-size.js';

/** What the app needs of the view model: its state and a `change` event. */
export interface ViewSource {
  readonly state: ClusterViewState;
  on(event: 'change', listener: () => void): unknown;
  off(event: 'change', listener: () => void): unknown;
}

export interface ConsoleAppProps {
  runner: ConsoleRunner;
  view: ViewSource;
  /** The prompt's history (loaded by the caller); lines entered are pushed to it. */
  history: InputHistory;
  /** Called after a line was added to the history, with every line, to persist them. */
  onHistory?: (lines: readonly string[]) => void;
  /** Called once when the user quits (`quit`, or ctrl-c / ctrl-d on an empty line), before the app exits. */
  onQuit?: () => void;
  /** Wall clock in ms since the epoch; injectable for tests. */
  now?: () => number;
  /** Re-render period for the ages shown (stats age, running time), ms. Default 1000. */
  tickMs?: number;
  /** Shown in the command pane before the first command (until ctrl-l), e.g. what to try. */
  intro?: string;
  /** The URLs being tried, shown in the header until the view knows the connected one. */
  target?: string;
}

/** Frames per second ink may draw (its `maxFps`). */
export const MAX_FPS = 60;
/**
 * How long a command waits after Enter before it is sent: ink draws a frame asked for within a
 * frame interval of the previous one at the end of that interval, so two intervals and a margin
 * see the frame showing the command drawn before the request leaves.
 */
const SEND_DELAY_MS = 2 * Math.ceil(1000 / MAX_FPS) + 5;
/** Longest a command in flight holds back live-view updates, ms (the send delay included). */
const HOLD_MS = 250;

export const DEFAULT_HINT = 'Tab completes · ↑/↓ history · PgUp/PgDn scroll · Ctrl-L clears · `help` lists commands · `quit` or Ctrl-C exits';

/** The result shown when the runner itself throws (it should not: failures are results). */
function crashResult(error: unknown): CommandResult {
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, text: formatError('INTERNAL', message), json: { error: { code: 'INTERNAL', message } } };
}

/** The runner, and the `watch on|off` switch when it has one ({@link ConsoleSession} does). */
export type ConsoleRunner = CommandRunner & { readonly watching?: boolean };

export function ConsoleApp({ runner, view, history, onHistory, onQuit, now: clock = Date.now, tickMs = 1000, intro, target }: ConsoleAppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [state, setState] = useState<ClusterViewState>(() => view.state);
  const [now, setNow] = useState(clock);
  const [line, setLine] = useState<LineState>(EMPTY_LINE);
  const [candidates, setCandidates] = useState<string[]>([]);
  const [entries, setEntries] = useState<OutputEntry[]>([]);
  const [scroll, setScroll] = useState(0);
  const [introText, setIntroText] = useState(intro ?? '');
  // The line as of the last key, ahead of React's state when keys arrive in one chunk.
  const lineRef = useRef<LineState>(EMPTY_LINE);
  const queue = useRef<Promise<void>>(Promise.resolve());
  const seq = useRef(0);
  /** Commands entered and not finished. */
  const pending = useRef(0);
  const quitting = useRef(false);
  const palette = useMemo(() => new PeerPalette(), []);

  // While a command is in flight, live-view updates wait (at most HOLD_MS): a frame drawn then
  // would sit between the reply and the command's clock and inflate the time shown.
  const inFlightSince = useRef<number | undefined>(undefined);
  const held = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshNow = useCallback(() => {
    if (held.current !== undefined) clearTimeout(held.current);
    held.current = undefined;
    setState(view.state);
    setNow(clock());
  }, [view, clock]);
  const refresh = useCallback(() => {
    const since = inFlightSince.current;
    if (since === undefined) return refreshNow();
    if (held.current === undefined) held.current = setTimeout(refreshNow, Math.max(0, since + HOLD_MS - clock()));
  }, [refreshNow, clock]);

  useEffect(() => {
    view.on('change', refresh);
    refreshNow();
    return () => {
      view.off('change', refresh);
    };
  }, [view, refresh, refreshNow]);

  useEffect(() => {
    const timer = setInterval(refresh, tickMs);
    return () => {
      clearInterval(timer);
      if (held.current !== undefined) clearTimeout(held.current);
    };
  }, [refresh, tickMs]);

  const quit = useCallback(() => {
    if (quitting.current) return;
    quitting.current = true;
    onQuit?.();
    exit();
  }, [exit, onQuit]);

  const updateLine = (next: LineState): void => {
    lineRef.current = next;
    setLine(next);
  };

  const updateEntry = (n: number, patch: Partial<OutputEntry>): void =>
    setEntries((all) => all.map((entry) => (entry.seq === n ? { ...entry, ...patch } : entry)));

  const submit = (): void => {
    const text = lineRef.current.text.trim();
    updateLine(EMPTY_LINE);
    setCandidates([]);
    if (history.push(text)) onHistory?.(history.lines);
    if (text === '') return;
    const n = ++seq.current;
    const queued = pending.current > 0;
    pending.current++;
    setEntries((all) => [...all, { seq: n, line: text, startedAt: clock(), queued }].slice(-MAX_ENTRIES));
    setScroll(0);
    queue.current = queue.current.then(async () => {
      if (quitting.current) return;
      inFlightSince.current = clock();
      if (queued) updateEntry(n, { queued: false, startedAt: clock() });
      // Let the frame showing the command go out first: drawn while the request is in flight, it
      // would delay the reply and inflate the time the console reports.
      await new Promise((resolve) => setTimeout(resolve, SEND_DELAY_MS));
      let result: CommandResult;
      try {
        result = await runner.run(text);
      } catch (error) {
        result = crashResult(error);
      }
      inFlightSince.current = undefined;
      if (held.current !== undefined) refreshNow();
      pending.current--;
      updateEntry(n, { result });
      if (result.quit) quit();
    });
  };

  const pageSize = Math.max(1, computeLayout(rows, state.peers.length).outputLines - 1);

  const perform = (action: KeyAction): void => {
    const current = lineRef.current;
    switch (action.type) {
      case 'edit':
        updateLine(editLine(current, action.edit));
        setCandidates([]);
        return;
      case 'submit':
        submit();
        return;
      case 'history-previous': {
        const previous = history.previous(current.text);
        if (previous !== undefined) updateLine(lineAt(previous));
        return;
      }
      case 'history-next': {
        const next = history.next();
        if (next !== undefined) updateLine(lineAt(next));
        return;
      }
      case 'complete': {
        const outcome = applyCompletion(current, runner.complete(current.text.slice(0, current.cursor)));
        updateLine(outcome.line);
        setCandidates(outcome.candidates);
        return;
      }
      case 'interrupt':
        if (current.text === '') quit();
        else {
          updateLine(EMPTY_LINE);
          history.reset();
          setCandidates([]);
        }
        return;
      case 'eof':
        if (current.text === '') quit();
        else updateLine(editLine(current, { type: 'delete' }));
        return;
      case 'clear-output':
        setEntries([]);
        setIntroText('');
        setScroll(0);
        return;
      case 'scroll-up':
        setScroll((s) => s + pageSize);
        return;
      case 'scroll-down':
        setScroll((s) => Math.max(0, s - pageSize));
        return;
    }
  };

  useInput((input, key) => {
    for (const action of keyToActions(input, key)) perform(action);
  });

  palette.assign(state.peers.map((p) => p.id));
  const layout = computeLayout(rows, state.peers.length);
  const table = tableLayout(state.peers, columns);
  const introLines: OutputLine[] = introText ? wrapText(introText, columns).map((text, i) => ({ key: `intro${i}`, text, tone: 'info' })) : [];
  const allOutput = [...introLines, ...outputLines(entries, columns, now)];
  const maxScroll = Math.max(0, allOutput.length - layout.outputLines);
  const shownScroll = Math.min(scroll, maxScroll);
  const busy = entries.some((entry) => entry.result === undefined);
  const hint = candidates.length > 0 ? `completions: ${candidates.join('  ')}` : DEFAULT_HINT;

  return (
    <Box flexDirection="column" width={columns} height={Math.max(1, rows - 1)} overflow="hidden">
      <HeaderBar state={state} now={now} {...(target ? { target } : {})} />
      <PeerTableView peers={state.peers} visible={layout.peerRows} layout={table} palette={palette} />
      <RingStripView strip={state.strip} width={columns} palette={palette} />
      <SectionTitle title="events" width={columns} />
      <EventLogView events={state.events} height={layout.eventLines} muted={runner.watching === false} />
      <SectionTitle title="commands" width={columns} {...(shownScroll > 0 ? { extra: `scrolled up ${shownScroll} lines (PgDn)` } : {})} />
      <OutputPane lines={visibleLines(allOutput, layout.outputLines, shownScroll)} height={layout.outputLines} width={columns} />
      <PromptLine line={line} width={columns} busy={busy} />
      <Text dimColor wrap="truncate-end">
        {hint}
      </Text>
    </Box>
  );
}
