/** The prompt: `›` and the line being edited, with the cursor cell in inverse video. */
import { Text } from 'ink';
import { PROMPT } from './command-output.js';
import { promptWindow, type LineState } from './line-editor.js';

export function PromptLine({ line, width, busy }: { line: LineState; width: number; busy: boolean }) {
  const shown = promptWindow(line, Math.max(1, width - 3));
  return (
    <Text wrap="truncate-end">
      <Text color={busy ? 'gray' : 'cyan'} bold>{`${PROMPT} `}</Text>
      <Text>{shown.before}</Text>
      <Text inverse>{shown.at}</Text>
      <Text>{shown.after}</Text>
    </Text>
  );
}
