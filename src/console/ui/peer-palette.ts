/**
 * A colour and a one-character mark per peer, stable for the life of the console: a peer keeps
 * its colour when others join, die or leave, so the ring strip and the rows stay readable across
 * an incident. The mark labels the peer's runs in the strip, so the strip still reads in a
 * terminal without colours (and in a `tmux capture-pane`).
 *
 * Red is not in the palette: it means dead/error. Colours are ink colour names.
 */
import type { MemberState } from '../../membership/member.js';

/** Peer colours, in the order they are handed out. */
export const PEER_COLORS: readonly string[] = [
  'cyan',
  'magenta',
  'yellow',
  'green',
  'blue',
  'cyanBright',
  'magentaBright',
  'greenBright',
  'blueBright',
  'yellowBright',
  'white',
];

/** The colour of each member state. */
export const STATE_COLORS: Readonly<Record<MemberState, string>> = {
  alive: 'green',
  suspect: 'yellow',
  dead: 'red',
  left: 'gray',
};

/** Marks used when neither end of an id gives a free letter or digit. */
const SPARE_MARKS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A peer's look: its colour and its strip mark. */
export interface PeerStyle {
  color: string;
  mark: string;
}

export class PeerPalette {
  private readonly styles = new Map<string, PeerStyle>();
  private nextColor = 0;

  /**
   * The style of `id`, assigned on first use: the next palette colour (round robin), and as mark
   * the id's last letter or digit (`p3` -> `3`), else its first, else a spare one, whichever no
   * other peer has.
   */
  styleOf(id: string): PeerStyle {
    let style = this.styles.get(id);
    if (!style) {
      style = { color: PEER_COLORS[this.nextColor % PEER_COLORS.length]!, mark: this.freeMark(id) };
      this.nextColor++;
      this.styles.set(id, style);
    }
    return style;
  }

  /** Assigns styles to `ids` in sorted order, so a fresh console colours p1, p2, p3 alike every time. */
  assign(ids: Iterable<string>): void {
    for (const id of [...ids].sort()) this.styleOf(id);
  }

  private freeMark(id: string): string {
    const taken = new Set([...this.styles.values()].map((style) => style.mark));
    const alnum = id.match(/[A-Za-z0-9]/g) ?? [];
    const candidates = [alnum[alnum.length - 1], alnum[0], ...SPARE_MARKS];
    return candidates.find((mark): mark is string => mark !== undefined && !taken.has(mark)) ?? '?';
  }
}
