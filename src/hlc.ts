/**
 * Hybrid logical clock and entry versions.
 *
 * Algorithm: Kulkarni, Demirbas, Madappa, Avva & Leone, "Logical Physical Clocks and Consistent
 * Snapshots in Globally Distributed Databases" (2014), figure 5. A timestamp is `(l, c)`: `l` the
 * largest physical time (ms since the Unix epoch) seen so far, `c` a logical counter that orders
 * events sharing the same `l`. Versions add the writing peer's id as the final tie-breaker, so two
 * versions are never equal unless they are the same write: last-writer-wins (LWW) is then a total
 * order that every peer computes the same way.
 */

/** An entry version on the wire and in the store: `[l (ms), c, peerId]`. */
export type Version = readonly [wallMs: number, logical: number, peerId: string];

/**
 * Orders two versions: negative when `a` is older than `b`, positive when newer, 0 when equal.
 * Compares `l`, then `c`, then the peer id (by code units).
 */
export function compareVersions(a: Version, b: Version): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

/** True when `value` has the shape of a {@link Version}. */
export function isVersion(value: unknown): value is Version {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    Number.isSafeInteger(value[0]) &&
    Number.isSafeInteger(value[1]) &&
    value[1] >= 0 &&
    typeof value[2] === 'string'
  );
}

/**
 * A hybrid logical clock owned by one peer.
 * `now()` stamps a local event (a write); `observe()` merges a timestamp received from another
 * peer so later local stamps order after it.
 */
export class HybridLogicalClock {
  private l = 0;
  private c = 0;

  /**
   * @param peerId id stamped into every version this clock issues
   * @param physicalNow source of physical time in ms (injectable for tests)
   * @param maxDriftMs remote timestamps further than this ahead of local physical time are not
   *   adopted (protects the clock from a peer with a wildly wrong clock). Default 60000 ms.
   */
  constructor(
    readonly peerId: string,
    private readonly physicalNow: () => number = Date.now,
    private readonly maxDriftMs = 60_000,
  ) {}

  /** A new version for a local event, strictly newer than every version issued or observed. */
  now(): Version {
    const pt = this.physicalNow();
    if (pt > this.l) {
      this.l = pt;
      this.c = 0;
    } else {
      this.c += 1;
    }
    return [this.l, this.c, this.peerId];
  }

  /** Merges a version received from another peer (the HLC receive rule). */
  observe(remote: Version): void {
    const pt = this.physicalNow();
    const [rl, rc] = remote;
    if (rl > pt + this.maxDriftMs) return;
    const l = Math.max(this.l, rl, pt);
    if (l === this.l && l === rl) this.c = Math.max(this.c, rc) + 1;
    else if (l === this.l) this.c += 1;
    else if (l === rl) this.c = rc + 1;
    else this.c = 0;
    this.l = l;
  }
}
