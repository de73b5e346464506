/**
 * Peer URLs as the client compares them: `ws://h:p` and `ws://h:p/` name the same peer, so every
 * URL the client keeps (given, discovered, read from a ring) is held in WHATWG `URL.href` form.
 */
import { CacheError } from '../errors.js';

/**
 * The normalized form of a `ws://` or `wss://` URL.
 * @returns `new URL(url).href`, or undefined for a non-string, a malformed URL or another scheme
 */
export function tryNormalizeUrl(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'ws:' || parsed.protocol === 'wss:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * {@link tryNormalizeUrl} for URLs given by the caller.
 * @throws CacheError BAD_CONFIG when `url` is not a `ws://` or `wss://` URL
 */
export function normalizeUrl(url: unknown): string {
  const normalized = tryNormalizeUrl(url);
  if (normalized === undefined) throw new CacheError('BAD_CONFIG', `urls: expected a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  return normalized;
}
