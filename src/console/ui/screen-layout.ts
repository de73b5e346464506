/**
 * How the terminal's rows are shared between the parts of the console, top to bottom:
 *
 *   header (1) | table header (1) + peer rows (+1 "more" line) | ring strip (1)
 *   | events title (1) + event lines | output title (1) + output lines | prompt (1) | hint (1)
 *
 * One row is left free at the bottom: ink ends its frame with a newline, and a frame as tall as
 * the terminal would make it clear the screen on every update.
 */

/** Rows of each part that varies. */
export interface ScreenLayout {
  /** Peer rows shown; the others are summarised on one "+N more" line. */
  peerRows: number;
  /** Peers not shown. */
  hiddenPeers: number;
  eventLines: number;
  outputLines: number;
}

/** Header, table header, strip, two section titles, prompt, hint. */
export const FIXED_ROWS = 7;
const MIN_OUTPUT = 3;
const MIN_EVENTS = 2;
const MAX_EVENTS = 10;

/** Splits `rows` terminal rows for a cluster of `peers` peers. */
export function computeLayout(rows: number, peers: number): ScreenLayout {
  const available = Math.max(0, rows - 1 - FIXED_ROWS);
  const forPeers = Math.max(1, available - MIN_OUTPUT - MIN_EVENTS);
  const peerRows = peers <= forPeers ? peers : Math.max(0, forPeers - 1);
  const hiddenPeers = peers - peerRows;
  const rest = Math.max(0, available - peerRows - (hiddenPeers > 0 ? 1 : 0));
  const eventLines = Math.min(rest, Math.max(MIN_EVENTS, Math.min(MAX_EVENTS, Math.floor(rest * 0.3))));
  return { peerRows, hiddenPeers, eventLines, outputLines: Math.max(0, rest - eventLines) };
}
