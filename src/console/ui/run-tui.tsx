/**
 * Runs the interactive console full-screen: the alternate screen (as htop and less use, so the
 * shell's scrollback is left as it was), and the screen restored on every way out (quit, an
 * error, or the process exiting).
 */
import ansiEscapes from 'ansi-escapes';
import { render } from 'ink';
import { ConsoleApp, MAX_FPS, type ConsoleRunner, type ViewSource } from './console-app.js';
import { InputHistory } from './input-history.js';

export interface TuiOptions {
  runner: ConsoleRunner;
  view: ViewSource;
  /** Earlier lines, oldest first. */
  history?: readonly string[];
  /** Persists the history after each entered line. */
  onHistory?: (lines: readonly string[]) => void;
  /** Shown in the command pane at start. */
  intro?: string;
  /** The URLs being tried, for the header until connected. */
  target?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/**
 * Shows the console until the user quits.
 * @returns the exit code: 0 after `quit`, 128 + the signal's number after SIGHUP, SIGINT or SIGTERM
 * @throws whatever made the UI crash, after restoring the terminal
 */
export async function runTui(options: TuiOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    stdout.write(ansiEscapes.exitAlternativeScreen + ansiEscapes.cursorShow);
  };
  stdout.write(ansiEscapes.enterAlternativeScreen + ansiEscapes.clearViewport);
  process.once('exit', restore);
  const instance = render(
    <ConsoleApp
      runner={options.runner}
      view={options.view}
      history={new InputHistory(options.history ?? [])} {...(options.onHistory ? { onHistory: options.onHistory } : {})}
      {...(options.intro ? { intro: options.intro } : {})}
      {...(options.target ? { target: options.target } : {})}
    />,
    {
      stdout,
      stdin: options.stdin ?? process.stdin,
      stderr: options.stderr ?? process.stderr,
      // ctrl-c is a key of the prompt (clears the line, quits on an empty one).
      exitOnCtrlC: false,
      maxFps: MAX_FPS,
      // Not ink's incrementalRendering: on a full-height frame it misplaces lines (seen in tmux).
    },
  );
  // A signal (the terminal closed, a kill) ends the UI the normal way, so the terminal is restored
  // and the caller still closes its connections; the exit code says which signal it was.
  let code = 0;
  const signals = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  const onSignal = (signal: NodeJS.Signals): void => {
    code = signals[signal as keyof typeof signals] ?? 1;
    instance.unmount();
  };
  for (const signal of Object.keys(signals)) process.on(signal, onSignal);
  try {
    await instance.waitUntilExit();
    return code;
  } finally {
    for (const signal of Object.keys(signals)) process.off(signal, onSignal);
    instance.cleanup();
    restore();
    process.off('exit', restore);
  }
}
