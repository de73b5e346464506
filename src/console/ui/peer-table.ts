/**
 * The peer rows of the live view as text cells: column widths for a terminal width, and each
 * row's cells padded to them. Colouring is the component's job; everything here is pure.
 *
 *   ` ▶ 1 p1  ws://127.0.0.1:7000  alive      0  ███████████▌·········  33.6%    1204    12.0  connected`
 */
import type { PeerRow } from '../console-types.js';
import { displayUrl } from '../result-format.js';
import { formatPercent, renderBar, type BarParts } from './share-bar.js';

/** Column widths of the table; `url` is 0 when the terminal is too narrow for it. */
export interface TableLayout {
  id: number;
  url: number;
  bar: number;
  note: number;
}

/** The cells of one row, each already padded to its column. */
export interface RowCells {
  /** `▶` on the connected peer's row, else a space. */
  pointer: string;
  id: string;
  url: string;
  state: string;
  incarnation: string;
  bar: BarParts;
  percent: string;
  keys: string;
  opsPerSec: string;
  note: string;
  /** What the note says, for colouring: the connected peer, a failed stats poll, or nothing. */
  noteKind: 'connected' | 'unreachable' | 'none';
}

const STATE_WIDTH = 7;
const INC_WIDTH = 5;
const PERCENT_WIDTH = 6;
const KEYS_WIDTH = 8;
const OPS_WIDTH = 8;
const MIN_BAR = 8;
const MAX_BAR = 40;
/** Room wanted for the note column before the bar grows: `slow/unreachable`. */
const NOTE_WANTED = 16;
/**
 * Cells besides id, URL, bar and note: ` ▶ 1 ` (5), a space after the id and after the URL, the
 * state, ` INC  `, ` PERCENT KEYS OPS`, and two spaces before the note.
 */
const FIXED = 5 + 1 + 1 + STATE_WIDTH + (1 + INC_WIDTH + 2) + (1 + PERCENT_WIDTH + 1 + KEYS_WIDTH + 1 + OPS_WIDTH) + 2;

export const NOTE_CONNECTED = 'connected';
export const NOTE_UNREACHABLE = 'slow/unreachable';

/** Width of a row with `layout`'s columns (the URL's trailing space omitted when hidden). */
export function rowWidth(layout: TableLayout): number {
  return FIXED + layout.id + (layout.url > 0 ? layout.url : -1) + layout.bar + layout.note;
}

/** Column widths for `peers` on a terminal `width` columns wide. */
export function tableLayout(peers: readonly PeerRow[], width: number): TableLayout {
  const id = clamp(Math.max(4, ...peers.map((p) => p.id.length)), 4, 16);
  let url = clamp(Math.max(3, ...peers.map((p) => displayUrl(p.url).length)), 3, 32);
  // One column spare: a line that fills the last column makes some terminals wrap.
  let room = width - 1 - FIXED - id - url;
  if (room < MIN_BAR) {
    room += url + 1;
    url = 0;
  }
  const bar = clamp(room - NOTE_WANTED, MIN_BAR, MAX_BAR);
  const note = Math.max(0, room - bar);
  return { id, url, bar, note };
}

/** The header row's cells, aligned with {@link formatRow}. */
export function headerCells(layout: TableLayout): Omit<RowCells, 'bar' | 'noteKind'> & { bar: string } {
  return {
    pointer: ' ',
    id: fit('PEER', layout.id),
    url: fit('URL', layout.url),
    state: fit('STATE', STATE_WIDTH),
    incarnation: 'INC'.padStart(INC_WIDTH),
    bar: fit(layout.bar >= 20 ? 'RING SHARE (primary)' : 'SHARE', layout.bar),
    percent: ''.padStart(PERCENT_WIDTH),
    keys: 'KEYS'.padStart(KEYS_WIDTH),
    opsPerSec: 'OPS/S'.padStart(OPS_WIDTH),
    note: fit('', layout.note),
  };
}

/** One peer's cells. */
export function formatRow(row: PeerRow, layout: TableLayout): RowCells {
  // A dead or departed peer not answering stats is no news.
  const inRing = row.state === 'alive' || row.state === 'suspect';
  const noteKind = row.unreachable && inRing ? 'unreachable' : row.connected ? 'connected' : 'none';
  const noteText = noteKind === 'unreachable' ? NOTE_UNREACHABLE : noteKind === 'connected' ? NOTE_CONNECTED : '';
  return {
    pointer: row.connected ? '▶' : ' ',
    id: fit(row.id, layout.id),
    url: fit(displayUrl(row.url), layout.url),
    state: fit(row.state, STATE_WIDTH),
    incarnation: fit(String(row.incarnation), INC_WIDTH, 'right'),
    bar: renderBar(row.ownership, layout.bar),
    percent: formatPercent(row.ownership),
    keys: fit(row.keys === undefined ? '-' : formatCount(row.keys), KEYS_WIDTH, 'right'),
    opsPerSec: fit(row.opsPerSec === undefined ? '-' : formatRate(row.opsPerSec), OPS_WIDTH, 'right'),
    note: fit(noteText, layout.note),
    noteKind,
  };
}

/** A count for an 8-cell column: `1204`, `123456`, `1.23M`, `4.56G`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Math.abs(n) < 10_000_000) return String(Math.round(n));
  if (Math.abs(n) < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** A rate: one decimal below 1000 (`0.0`, `12.5`), whole numbers above, then `12.3k`. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Math.abs(n) < 1000) return n.toFixed(1);
  if (Math.abs(n) < 100_000) return String(Math.round(n));
  return `${(n / 1000).toFixed(1)}k`;
}

/** `text` cut or padded to exactly `width` characters (`…` marks a cut). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
