import { describe, expect, it } from 'vitest';
import type { PeerRow } from '../../../src/console/console-types.js';
import { fit, formatCount, formatRate, formatRow, headerCells, rowWidth, tableLayout } from '../../../src/console/ui/peer-table.js';

const row = (over: Partial<PeerRow> = {}): PeerRow => ({
  id: 'p1',
  url: 'ws://127.0.0.1:7000/',
  state: 'alive',
  incarnation: 0,
  ownership: 1 / 3,
  keys: 1204,
  opsPerSec: 12,
  connected: false,
  ...over,
});

function line(cells: ReturnType<typeof formatRow>): string {
  return [cells.pointer, cells.id, cells.url, cells.state, cells.incarnation, cells.bar.filled + cells.bar.empty, cells.percent, cells.keys, cells.opsPerSec, cells.note].join(' ');
}

describe('tableLayout', () => {
  it('gives a wide terminal a long bar and a note column', () => {
    const layout = tableLayout([row(), row({ id: 'p2' })], 160);
    expect(layout).toMatchObject({ id: 4, url: 19, bar: 40 });
    expect(layout.note).toBeGreaterThanOrEqual(20);
  });

  it.each([160, 120, 100, 80])('fits a row in %d columns, one spare', (width) => {
    const layout = tableLayout([row(), row({ id: 'p22', url: 'ws://10.0.0.122:7000' })], width);
    expect(rowWidth(layout)).toBeLessThanOrEqual(width - 1);
    if (width >= 100) expect(rowWidth(layout)).toBe(width - 1);
  });

  it('drops the URL column before the bar gets too short', () => {
    const layout = tableLayout([row()], 60);
    expect(layout.url).toBe(0);
    expect(layout.bar).toBeGreaterThanOrEqual(8);
  });
});

describe('formatRow', () => {
  const layout = tableLayout([row()], 120);

  it('pads every cell to its column', () => {
    const a = formatRow(row(), layout);
    const b = formatRow(row({ id: 'p22', state: 'suspect', incarnation: 12, ownership: 1, keys: 5, opsPerSec: 1234.5 }), layout);
    expect(line(a).length).toBe(line(b).length);
    expect(a.url).toBe('ws://127.0.0.1:7000');
    expect(a.percent).toBe(' 33.3%');
  });

  it('marks the connected peer and an unreachable one', () => {
    expect(formatRow(row({ connected: true }), layout)).toMatchObject({ pointer: '▶', noteKind: 'connected' });
    const lost = formatRow(row({ unreachable: true, keys: undefined, opsPerSec: undefined }), layout);
    expect(lost.noteKind).toBe('unreachable');
    expect(lost.note.trim()).toBe('slow/unreachable');
    expect(lost.keys.trim()).toBe('-');
    expect(formatRow(row({ unreachable: true, state: 'suspect' }), layout).noteKind).toBe('unreachable');
    expect(formatRow(row({ unreachable: true, state: 'dead' }), layout).noteKind).toBe('none');
  });

  it('header cells line up with the rows', () => {
    const header = headerCells(layout);
    expect(header.id.length).toBe(layout.id);
    expect(header.bar.length).toBe(layout.bar);
  });
});

describe('number cells', () => {
  it.each([
    [0, '0'],
    [1204, '1204'],
    [9_999_999, '9999999'],
    [12_345_678, '12.35M'],
    [4.2e9, '4.20G'],
  ])('formatCount(%d) = %s', (n, text) => expect(formatCount(n)).toBe(text));
  it.each([
    [0, '0.0'],
    [12.345, '12.3'],
    [1234.5, '1235'],
    [123_456, '123.5k'],
  ])('formatRate(%d) = %s', (n, text) => expect(formatRate(n)).toBe(text));
  it('fit cuts with an ellipsis and pads', () => {
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('ab', 4)).toBe('ab  ');
    expect(fit('ab', 4, 'right')).toBe('  ab');
    expect(fit('ab', 0)).toBe('');
  });
});
