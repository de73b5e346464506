/**
 * Conversion between stored entries and their wire form `[key, value, version, expiresAt]`
 * (see `WireEntry` in the peer frames).
 */
import type { WireEntry } from '../protocol/peer-frames.js';
import type { StoredEntry } from '../store/entry.js';

/** A stored entry as sent to another peer. */
export function toWireEntry(key: string, entry: StoredEntry): WireEntry {
  return [key, entry.value, entry.version, entry.expiresAt];
}

/** A wire entry as applied to the local store. */
export function fromWireEntry(wire: WireEntry): StoredEntry {
  return { value: wire[1], version: wire[2], expiresAt: wire[3] };
}
