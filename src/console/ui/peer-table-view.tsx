/** The peer rows of the live view: id, URL, state, incarnation, ring share, keys, ops/s. */
import { Box, Text } from 'ink';
import type { PeerRow } from '../console-types.js';
import { STATE_COLORS, type PeerPalette } from './peer-palette.js';
import { formatRow, headerCells, type TableLayout } from './peer-table.js';

interface Props {
  peers: readonly PeerRow[];
  /** Rows shown; the rest are counted on a last line. */
  visible: number;
  layout: TableLayout;
  palette: PeerPalette;
}

export function PeerTableView({ peers, visible, layout, palette }: Props) {
  const header = headerCells(layout);
  const hidden = peers.length - visible;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" bold dimColor>
        {` ${header.pointer}   ${header.id} ${layout.url ? `${header.url} ` : ''}${header.state} ${header.incarnation}  ${header.bar} ${header.percent} ${header.keys} ${header.opsPerSec}`}
      </Text>
      {peers.slice(0, visible).map((row) => (
        <PeerRowView key={row.id} row={row} layout={layout} palette={palette} />
      ))}
      {hidden > 0 ? <Text dimColor>{`     +${hidden} more (a taller terminal shows them)`}</Text> : null}
    </Box>
  );
}

function PeerRowView({ row, layout, palette }: { row: PeerRow; layout: TableLayout; palette: PeerPalette }) {
  const cells = formatRow(row, layout);
  const style = palette.styleOf(row.id);
  const gone = row.state === 'dead' || row.state === 'left';
  const stateColor = STATE_COLORS[row.state];
  return (
    <Text wrap="truncate-end">
      <Text bold color="cyan">{` ${cells.pointer} `}</Text>
      <Text inverse color={style.color}>
        {style.mark}
      </Text>
      <Text> </Text>
      <Text color={style.color} bold={row.connected}>
        {cells.id}
      </Text>
      <Text> </Text>
      {layout.url ? <Text dimColor={gone}>{`${cells.url} `}</Text> : null}
      <Text color={stateColor} bold={row.state !== 'alive'}>
        {cells.state}
      </Text>
      <Text dimColor>{` ${cells.incarnation}  `}</Text>
      <Text color={gone ? 'gray' : style.color}>{cells.bar.filled}</Text>
      <Text dimColor>{cells.bar.empty}</Text>
      <Text dimColor={gone}>{` ${cells.percent} ${cells.keys} ${cells.opsPerSec}`}</Text>
      <Text color={cells.noteKind === 'unreachable' ? 'yellow' : 'cyan'} dimColor={cells.noteKind === 'connected'}>
        {`  ${cells.note}`}
      </Text>
    </Text>
  );
}
