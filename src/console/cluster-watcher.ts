/**
 * Glue between a {@link CacheClient} and a {@link ClusterView}: subscribes to the cluster's
 * events, forwards them into the view, and polls `cluster-stats` on a timer. The only part of
 * the live view that owns timers; all the logic is in the view.
 */
import type { CacheClient, MemberEvent, RebalanceEvent, RingInfo } from '../client/cache-client.js';
import { CacheError } from '../errors.js';
import type { ClusterView } from './cluster-view.js';
import { displayUrl } from './result-format.js';

/** The client members the watcher uses; a real {@link CacheClient} fits. */
export type WatchedClient = Pick<CacheClient, 'ring' | 'watch' | 'clusterStats' | 'url' | 'status' | 'on' | 'off'>;

/** Options of {@link ClusterWatcher}. Durations in ms. */
export interface ClusterWatcherOptions {
  client: WatchedClient;
  view: ClusterView;
  /** Period of the `cluster-stats` poll. Default 1000. */
  pollMs?: number;
  /**
   * Deadline of one poll; below `pollMs`, so that a slow or hung peer delays the stats by at
   * most one period and never stacks polls. Default `0.8 * pollMs`.
   */
  pollTimeoutMs?: number;
  /** Deadline of the `watch` and `ring` requests. Default 5000. */
  requestTimeoutMs?: number;
  /** Wall clock in ms since the epoch, stamped on each poll. Default `Date.now`. */
  now?: () => number;
  /** Called with every ring snapshot the watcher sees (e.g. `session.noteRing`). */
  onRing?: (ring: RingInfo) => void;
}

interface Listeners {
  member: (event: MemberEvent) => void;
  ring: (ring: RingInfo) => void;
  rebalance: (event: RebalanceEvent) => void;
  connect: (info: { url: string }) => void;
  disconnect: (info: { url: string; code: number; reason: string }) => void;
  status: (change: { from: string; to: string }) => void;
}

/**
 * Watches a cluster through one client for a {@link ClusterView}.
 *
 * - {@link start}: subscribes (`watch`), fetches the ring, and polls `cluster-stats` every
 *   `pollMs` (the first poll at once). Member, ring and rebalance events go to the view as they
 *   arrive; connection changes become `setConnection` calls; after every reconnection the ring
 *   is fetched again (the client subscribes again by itself).
 * - A poll that fails or times out changes nothing but the view's connection status (taken from
 *   the client); the next one is tried a period later. `statsAt` in the view tells how old the
 *   stats are.
 * - {@link stop} clears the timer and removes every listener; it does not close the client.
 *   Timers are unref'd: the watcher never keeps a process alive.
 */
export class ClusterWatcher {
  private client: WatchedClient;
  private readonly view: ClusterView;
  private readonly pollMs: number;
  private readonly pollTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;
  private readonly onRing: ((ring: RingInfo) => void) | undefined;
  private listeners: Listeners | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by start, stop and swapClient: async work of an older generation is dropped. */
  private generation = 0;
  private running = false;
  /** Set by swapClient: the next ring is the new peer's first, a baseline rather than a change. */
  private baselineNext = false;

  /** @throws CacheError BAD_CONFIG for a non-positive `pollMs`, or a `pollTimeoutMs` not below it */
  constructor(options: ClusterWatcherOptions) {
    this.client = options.client;
    this.view = options.view;
    this.pollMs = options.pollMs ?? 1000;
    this.pollTimeoutMs = options.pollTimeoutMs ?? Math.max(1, Math.floor(this.pollMs * 0.8));
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.onRing = options.onRing;
    if (!(this.pollMs > 0) || !Number.isFinite(this.pollMs)) throw new CacheError('BAD_CONFIG', `pollMs: expected a positive number of ms, got ${String(this.pollMs)}`);
    if (!(this.pollTimeoutMs > 0 && this.pollTimeoutMs < this.pollMs)) {
      throw new CacheError('BAD_CONFIG', `pollTimeoutMs: expected a positive number of ms below pollMs (${this.pollMs}), got ${String(this.pollTimeoutMs)}`);
    }
    if (!(this.requestTimeoutMs > 0)) throw new CacheError('BAD_CONFIG', `requestTimeoutMs: expected a positive number of ms, got ${String(this.requestTimeoutMs)}`);
  }

  /** True between {@link start} and {@link stop}. */
  get started(): boolean {
    return this.running;
  }

  /**
   * Starts watching. Resolves once the subscription and the first ring fetch have been tried;
   * never rejects (a failure is retried after the next reconnection). Idempotent.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.attach(this.client);
  }

  /** Stops watching: clears the poll timer, removes the listeners. Idempotent. */
  stop(): void {
    this.running = false;
    this.generation++;
    this.clearTimer();
    this.detach();
  }

  /**
   * Watches through another client (after `connect URL`): leaves the old one (not closed here),
   * subscribes with the new one and polls it at once. The new peer's first ring is a baseline
   * (no joins logged). Before {@link start}, only records it.
   */
  async swapClient(client: WatchedClient): Promise<void> {
    if (!this.running) {
      this.client = client;
      return;
    }
    this.generation++;
    this.clearTimer();
    this.detach();
    this.client = client;
    this.baselineNext = true;
    await this.attach(client);
  }

  private async attach(client: WatchedClient): Promise<void> {
    const generation = ++this.generation;
    const current = (): boolean => this.running && generation === this.generation;
    const listeners: Listeners = {
      member: (event) => {
        if (current()) this.view.applyMember(event);
      },
      ring: (ring) => {
        if (current()) this.acceptRing(ring);
      },
      rebalance: (event) => {
        if (current()) this.view.applyRebalance(event);
      },
      connect: ({ url }) => {
        if (!current()) return;
        this.view.setConnection('connected', displayUrl(url));
        void this.fetchRing(client, current);
      },
      disconnect: () => {
        if (current()) this.view.setConnection(client.status === 'closed' ? 'closed' : 'reconnecting');
      },
      status: ({ to }) => {
        if (current() && (to === 'reconnecting' || to === 'closed')) this.view.setConnection(to);
      },
    };
    this.listeners = listeners;
    for (const [event, listener] of Object.entries(listeners)) client.on(event as keyof Listeners, listener as never);
    this.view.setConnection(client.status, client.url === undefined ? undefined : displayUrl(client.url));
    this.schedulePoll(0, client, current);
    try {
      await client.watch({ timeoutMs: this.requestTimeoutMs });
    } catch {
      // UNAVAILABLE / TIMEOUT: the client subscribes again on its next connection.
    }
    if (current()) await this.fetchRing(client, current);
  }

  private detach(): void {
    const listeners = this.listeners;
    if (!listeners) return;
    this.listeners = undefined;
    for (const [event, listener] of Object.entries(listeners)) this.client.off(event as keyof Listeners, listener as never);
  }

  private async fetchRing(client: WatchedClient, current: () => boolean): Promise<void> {
    try {
      const ring = await client.ring({ timeoutMs: this.requestTimeoutMs });
      if (current()) this.acceptRing(ring);
    } catch {
      // Best effort: the next reconnection or ring event brings one.
    }
  }

  private acceptRing(ring: RingInfo): void {
    const baseline = this.baselineNext;
    this.baselineNext = false;
    this.view.applyRing(ring, { baseline });
    this.onRing?.(ring);
  }

  private schedulePoll(delayMs: number, client: WatchedClient, current: () => boolean): void {
    this.clearTimer();
    const timer = setTimeout(() => {
      if (this.timer === timer) this.timer = undefined;
      void this.poll(client, current);
    }, delayMs);
    timer.unref?.();
    this.timer = timer;
  }

  private async poll(client: WatchedClient, current: () => boolean): Promise<void> {
    if (!current()) return;
    const startedAt = this.now();
    try {
      const peers = await client.clusterStats({ timeoutMs: this.pollTimeoutMs });
      if (current()) this.view.applyClusterStats(peers, startedAt);
    } catch {
      if (current()) this.view.setConnection(client.status);
    }
    if (!current()) return;
    const elapsed = this.now() - startedAt;
    this.schedulePoll(Math.max(0, this.pollMs - elapsed), client, current);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
