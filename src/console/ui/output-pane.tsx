/** The command output pane: commands and results, newest at the bottom. */
import { Box, Text } from 'ink';
import type { OutputLine } from './command-output.js';

const TONE_COLORS: Record<OutputLine['tone'], string | undefined> = { command: 'cyan', ok: undefined, error: 'red', info: 'gray' };

export function OutputPane({ lines, height, width }: { lines: readonly OutputLine[]; height: number; width: number }) {
  return (
    <Box flexDirection="column" height={height} overflow="hidden" justifyContent="flex-end">
      {lines.map((line) => {
        if (!line.aside) {
          return (
            <Text key={line.key} wrap="truncate-end" color={TONE_COLORS[line.tone]}>
              {line.text}
            </Text>
          );
        }
        const room = Math.max(1, width - line.aside.length - 3);
        const text = line.text.length > room ? `${line.text.slice(0, room - 1)}…` : line.text;
        return (
          <Text key={line.key} wrap="truncate-end">
            <Text color={TONE_COLORS[line.tone]} bold>
              {text}
            </Text>
            <Text dimColor>{`   ${line.aside}`}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
