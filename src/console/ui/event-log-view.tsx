/** The event log: the newest events that fit, oldest at the top, coloured by level. */
import { Box, Text } from 'ink';
import type { ViewEvent } from '../console-types.js';
import { formatEvent } from './event-format.js';

const LEVEL_COLORS: Record<ViewEvent['level'], string | undefined> = { info: undefined, warn: 'yellow', error: 'red' };

/**
 * @param muted `watch off`: the log is hidden (the rows and the strip stay live)
 */
export function EventLogView({ events, height, muted = false }: { events: readonly ViewEvent[]; height: number; muted?: boolean }) {
  const shown = height > 0 && !muted ? events.slice(-height) : [];
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {muted ? <Text dimColor> (watch is off: `watch on` shows the events again)</Text> : null}
      {!muted && shown.length === 0 ? <Text dimColor> (no events yet)</Text> : null}
      {shown.map((event, i) => (
        <Text key={`${event.at}-${events.length - shown.length + i}`} wrap="truncate-end" color={LEVEL_COLORS[event.level]}>
          {` ${formatEvent(event)}`}
        </Text>
      ))}
    </Box>
  );
}
