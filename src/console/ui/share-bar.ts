/**
 * The ring-share bar of a peer row: a fraction drawn with eighth blocks, so a 20-cell bar shows
 * steps of 1/160 (0.6 %), and the percentage beside it.
 */

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';
/** Drawn in the unfilled cells (dim in the UI). */
export const BAR_EMPTY = '·';

/** The two parts of a bar: `filled` (coloured) and `empty` (dim); together exactly `width` cells. */
export interface BarParts {
  filled: string;
  empty: string;
}

/**
 * Draws `fraction` (clamped to 0..1; NaN is 0) on `width` cells.
 * A non-zero fraction always shows at least a sliver, so a peer with a tiny share is not mistaken
 * for one with none.
 */
export function renderBar(fraction: number, width: number): BarParts {
  const cells = Math.max(0, Math.floor(width));
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  let eighths = Math.round(f * cells * 8);
  if (f > 0 && eighths === 0 && cells > 0) eighths = 1;
  const full = Math.floor(eighths / 8);
  const partial = EIGHTHS[eighths % 8]!;
  const filled = FULL.repeat(full) + partial;
  const used = full + (partial ? 1 : 0);
  return { filled, empty: BAR_EMPTY.repeat(cells - used) };
}

/** A fraction as a percentage with one decimal, right-aligned on 6 characters: ` 33.3%`, `100.0%`. */
export function formatPercent(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${(f * 100).toFixed(1)}%`.padStart(6);
}
