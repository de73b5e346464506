/** A dim rule with a title, between the parts of the screen: `── events ─────────`. */
import { Text } from 'ink';

export function SectionTitle({ title, width, extra }: { title: string; width: number; extra?: string }) {
  const head = `── ${title} `;
  const tail = extra ? ` ${extra} ──` : '';
  const rule = '─'.repeat(Math.max(0, width - head.length - tail.length));
  return (
    <Text dimColor wrap="truncate-end">
      {head + rule + tail}
    </Text>
  );
}
