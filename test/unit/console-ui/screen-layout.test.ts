import { describe, expect, it } from 'vitest';
import { computeLayout, FIXED_ROWS } from '../../../src/console/ui/screen-layout.js';

describe('computeLayout', () => {
  it.each([
    [48, 3],
    [48, 4],
    [24, 3],
    [24, 12],
    [30, 40],
    [10, 3],
  ])('%d rows, %d peers: fills the screen but one row', (rows, peers) => {
    const layout = computeLayout(rows, peers);
    const used = FIXED_ROWS + layout.peerRows + (layout.hiddenPeers > 0 ? 1 : 0) + layout.eventLines + layout.outputLines;
    expect(used).toBe(Math.max(FIXED_ROWS, rows - 1));
    expect(layout.peerRows + layout.hiddenPeers).toBe(peers);
  });

  it('shows every peer and a useful event log on a 48-row terminal', () => {
    expect(computeLayout(48, 4)).toEqual({ peerRows: 4, hiddenPeers: 0, eventLines: 10, outputLines: 26 });
  });

  it('keeps room for output when there are many peers', () => {
    const layout = computeLayout(24, 40);
    expect(layout.outputLines).toBeGreaterThanOrEqual(3);
    expect(layout.eventLines).toBeGreaterThanOrEqual(2);
    expect(layout.hiddenPeers).toBeGreaterThan(0);
  });
});
