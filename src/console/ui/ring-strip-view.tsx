/**
 * The ring strip: the hash space left to right, coloured (and marked) by primary owner.
 *
 * Drawn as one string coloured with chalk rather than one ink `<Text>` per run: with a few
 * hundred virtual nodes the strip has ~100 runs, and that many nodes made every frame cost tens
 * of ms, which delayed the replies the console was timing.
 */
import chalk from 'chalk';
import { Text } from 'ink';
import type { PeerPalette } from './peer-palette.js';
import { stripRuns } from './ring-strip.js';

const LABEL = ' ring 0 ';
const END = ' 2^32';

/** ink colour names are chalk's method names (`cyanBright` -> `bgCyanBright`). */
function background(color: string): (text: string) => string {
  const name = `bg${color[0]!.toUpperCase()}${color.slice(1)}`;
  const style = (chalk as unknown as Record<string, ((text: string) => string) | undefined>)[name];
  return style ?? ((text) => text);
}

export function RingStripView({ strip, width, palette }: { strip: ReadonlyArray<string | null>; width: number; palette: PeerPalette }) {
  const runs = stripRuns(strip, Math.max(0, width - LABEL.length - END.length - 1), palette);
  const text = runs
    .map((run) => (run.owner === null ? chalk.dim(run.text) : background(palette.styleOf(run.owner).color)(chalk.black(run.text))))
    .join('');
  return (
    <Text wrap="truncate-end">
      <Text dimColor>{LABEL}</Text>
      {text}
      <Text dimColor>{END}</Text>
    </Text>
  );
}
