/**
 * The ring strip: the hash space from 0 to 2^32 left to right, each cell coloured by the peer
 * that owns it as primary ({@link ClusterViewState.strip}). A join shows as a new colour taking
 * slices from everyone; a death as a colour vanishing.
 *
 * Every cell shows its owner's mark on the owner's colour (`1111222311113333`), so the strip
 * reads without colours too (and a vanished peer is a vanished digit).
 */
import type { PeerPalette } from './peer-palette.js';

/** One run of equal cells: `text` is the owner's mark once per cell, `owner` null for no owner. */
export interface StripRun {
  owner: string | null;
  text: string;
}

/** Drawn in cells no peer owns (an empty ring). */
export const STRIP_EMPTY = '░';

/**
 * Resamples `buckets` to `width` cells: cell i shows the owner of the bucket holding the start of
 * the cell's stretch of the hash space.
 */
export function resampleStrip(buckets: ReadonlyArray<string | null>, width: number): Array<string | null> {
  const cells = Math.max(0, Math.floor(width));
  if (buckets.length === 0) return new Array<string | null>(cells).fill(null);
  return Array.from({ length: cells }, (_, i) => buckets[Math.floor((i * buckets.length) / cells)] ?? null);
}

/**
 * The strip as runs, `width` cells in all.
 * @param palette gives each owner its mark (and, to the UI, its colour)
 */
export function stripRuns(buckets: ReadonlyArray<string | null>, width: number, palette: PeerPalette): StripRun[] {
  const runs: Array<{ owner: string | null; length: number }> = [];
  for (const owner of resampleStrip(buckets, width)) {
    const last = runs[runs.length - 1];
    if (last && last.owner === owner) last.length++;
    else runs.push({ owner, length: 1 });
  }
  return runs.map(({ owner, length }) => ({
    owner,
    text: (owner === null ? STRIP_EMPTY : palette.styleOf(owner).mark).repeat(length),
  }));
}
