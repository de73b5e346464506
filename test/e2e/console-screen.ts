/**
 * Reads the full-screen console's text (as `tmux capture-pane -p` gives it) back into data: the
 * peer rows, the ring strip and the event log. The inverse of the UI's layout, for e2e tests.
 */

export interface ScreenRow {
  id: string;
  url: string;
  state: string;
  /** Share of the ring as primary, in percent. */
  share: number;
  connected: boolean;
  unreachable: boolean;
}

export interface ConsoleScreen {
  text: string;
  header: string;
  rows: Map<string, ScreenRow>;
  /** The strip's marks, one per cell (`1112223331...`), or '' when not found. */
  strip: string;
  /** Event log lines without their time. */
  events: string[];
}

const ROW = /^ ([▶ ]) (\S) (\S+)\s+(ws:\/\/\S+)\s+(alive|suspect|dead|left)\s+\d+\s+[█▏▎▍▌▋▊▉·]+\s+(\d+\.\d)%(.*)$/;
const STRIP = /^ ring 0 (\S+) 2\^32$/;
const EVENT = /^ \d\d:\d\d:\d\d {2}(.+)$/;

export function parseScreen(text: string): ConsoleScreen {
  const lines = text.split('\n');
  const rows = new Map<string, ScreenRow>();
  let strip = '';
  const events: string[] = [];
  for (const line of lines) {
    const row = ROW.exec(line);
    if (row) {
      rows.set(row[3]!, {
        id: row[3]!,
        url: row[4]!,
        state: row[5]!,
        share: Number(row[6]),
        connected: row[1] === '▶',
        unreachable: row[7]!.includes('slow/unreachable'),
      });
      continue;
    }
    const s = STRIP.exec(line);
    if (s) {
      strip = s[1]!;
      continue;
    }
    const event = EVENT.exec(line);
    if (event) events.push(event[1]!.trim());
  }
  return { text, header: lines[0] ?? '', rows, strip, events };
}
