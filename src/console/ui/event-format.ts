/** Event log lines of the live view: `14:02:11  p3 suspect (no ack from p1)`. */
import type { ViewEvent } from '../console-types.js';
import { formatClock } from '../result-format.js';

/** One event on one line. */
export function formatEvent(event: ViewEvent): string {
  return `${formatClock(event.at)}  ${event.text.replace(/\s*\n\s*/g, ' ')}`;
}

/** Seconds since `at`, for the header: `0.4 s ago`, `12 s ago`. */
export function formatAge(at: number, now: number): string {
  const s = Math.max(0, now - at) / 1000;
  return `${s < 10 ? s.toFixed(1) : Math.round(s)} s ago`;
}
