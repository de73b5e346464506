/**
 * The top line, most urgent first (a narrow terminal cuts the end): where the console is
 * connected and the connection status (loud when not connected), how many peers are alive, how
 * fresh the stats are, then the ring's checksum, epoch and replicas.
 */
import { Box, Text } from 'ink';
import type { ClusterViewState } from '../console-types.js';
import { displayUrl } from '../result-format.js';
import { formatAge } from './event-format.js';

/** Stats older than this are shown as stale (the poll runs every second). */
export const STALE_STATS_MS = 3000;

const CONNECTION_LOOK: Record<ClusterViewState['connection'], { color: string; loud: boolean }> = {
  connected: { color: 'green', loud: false },
  connecting: { color: 'yellow', loud: true },
  reconnecting: { color: 'yellow', loud: true },
  closed: { color: 'red', loud: true },
};

/**
 * @param target what the console is trying to reach, shown until the view knows a URL
 */
export function HeaderBar({ state, now, target = '' }: { state: ClusterViewState; now: number; target?: string }) {
  const look = CONNECTION_LOOK[state.connection];
  const alive = state.peers.filter((p) => p.state === 'alive').length;
  const stale = state.statsAt === undefined || now - state.statsAt > STALE_STATS_MS;
  return (
    <Box height={1}>
      <Text wrap="truncate-end">
        <Text bold>ringcache console</Text>
        <Text>  {state.url ? displayUrl(state.url) : target}  </Text>
        {look.loud ? (
          <Text inverse bold color={look.color}>
            {` ${state.connection.toUpperCase()} `}
          </Text>
        ) : (
          <Text color={look.color}>● {state.connection}</Text>
        )}
        <Text>
          {'   '}
          {alive}/{state.peers.length} alive
        </Text>
        <Text color={stale ? 'yellow' : undefined} dimColor={!stale}>
          {'   '}stats {state.statsAt === undefined ? 'pending' : formatAge(state.statsAt, now)}
        </Text>
        <Text dimColor>
          {'   '}ring {state.checksum.slice(0, 8) || '-'}  epoch {state.epoch}  replicas {state.replicas}
        </Text>
      </Text>
    </Box>
  );
}
