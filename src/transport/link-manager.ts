/**
 * The full mesh: one persistent {@link PeerLink} to every known live peer.
 *
 * - Handshake: the dialer sends `hello {v, from, members}`, the acceptor answers
 *   `welcome {v, from, members}` or `refuse {error}` and closes (4001 wrong protocol version,
 *   4002 not a peer). Something that is not a peer never gets past it.
 * - Who dials: for a pair of peers the one with the lower id dials at once; the other dials only
 *   if no link exists after `reconnectMaxMs`, so a broken link heals even if the lower side is
 *   wedged. If both links come up anyway, both sides keep the one dialed by the lower id and
 *   retire the other (its in-flight requests still complete).
 * - Reconnect: exponential backoff with full jitter (`random(0, min(max, base * 2^attempt))`,
 *   AWS Architecture Blog, "Exponential Backoff and Jitter", 2015).
 * - Links to dead peers are closed (4003); links to peers that left stay until the leaver closes
 *   them (it is still handing its entries off); dead peers are re-dialed slowly
 *   (every `reconnectMaxMs`, by the lower id) so a healed partition finds its way back: the
 *   handshake exchanges member lists and the wrongly dead side refutes.
 */
import { EventEmitter } from 'eventemitter3';
import WebSocket from 'ws';
import type { PeerConfig } from '../config.js';
import { PROTOCOL_VERSION } from '../config.js';
import type { Logger } from '../logger.js';
import type { MemberRecord } from '../membership/member.js';
import type { PeerFrame, Placement } from '../protocol/peer-frames.js';
import { encodePeerFrame, parsePeerFrame } from '../protocol/peer-frames.js';
import type { PeerRequestHandler } from './peer-link.js';
import { PeerLink } from './peer-link.js';
import type { TurnBudget } from '../turn-budget.js';

/** WebSocket close codes used on peer links. */
export const LINK_CLOSE_CODES = {
  DUPLICATE: 4000,
  PROTOCOL_VERSION: 4001,
  NOT_A_PEER: 4002,
  MEMBER_GONE: 4003,
  STOPPING: 4004,
} as const;

/** The path of the peer endpoint on every peer's port. */
export const PEER_PATH = '/peer';

/** What the link manager needs from the peer that owns it. */
export interface LinkManagerComponents {
  /** The current record of this peer. */
  self: () => MemberRecord;
  /** Every member record known now (sent in the handshake). */
  members: () => MemberRecord[];
  /** This peer's placement parameters; a peer with others is refused. */
  placement: Placement;
  /**
   * Called with the remote side's handshake; returns a refusal message, or undefined to accept.
   * The owner merges `members` into its member list here.
   */
  onHandshake: (from: MemberRecord, members: MemberRecord[]) => string | undefined;
  handler: PeerRequestHandler;
  onGossip: (records: MemberRecord[], link: PeerLink) => void;
  piggyback: () => MemberRecord[] | undefined;
  /** The per-turn work budget shared with the client sessions (see {@link PeerLinkOptions.turnBudget}). */
  turnBudget?: TurnBudget;
  logger: Logger;
}

/** Events: a link came up or went down. */
export interface LinkManagerEvents {
  'link:up': [link: PeerLink];
  'link:down': [peerId: string, code: number, reason: string];
}

/**
 * One peer the mesh should link to, and how:
 * - `connect`: keep a link, dial promptly (alive and suspect members);
 * - `slow`: re-dial every `reconnectMaxMs` by the lower id only (dead members: heals partitions);
 * - `keep`: never dial, but keep an existing link open (members that left: the leaving peer is
 *   still handing its entries off over it and closes it itself when done).
 */
export interface LinkTarget {
  id: string;
  url: string;
  mode: 'connect' | 'slow' | 'keep';
}

interface DialState {
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
  dialing: boolean;
}

type LinkConfig = Pick<PeerConfig, 'handshakeTimeoutMs' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'maxFrameBytes'>;

/** Joins a base URL and the peer path: `ws://h:p` -> `ws://h:p/peer`. */
export function peerEndpoint(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = PEER_PATH;
  return parsed.toString();
}

/**
 * Full-jitter exponential backoff delay in ms for the given attempt (0-based).
 * Source: AWS Architecture Blog, "Exponential Backoff and Jitter" (2015).
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Owns every peer link of one peer. `stop()` closes them all and clears every timer. */
export class LinkManager extends EventEmitter<LinkManagerEvents> {
  private readonly links = new Map<string, PeerLink>();
  private readonly dialStates = new Map<string, DialState>();
  private targets = new Map<string, LinkTarget>();
  private readonly pendingSockets = new Set<WebSocket>();
  private stopped = false;

  constructor(
    private readonly components: LinkManagerComponents,
    private readonly config: LinkConfig,
  ) {
    super();
  }

  /** The live link to a peer, if any. */
  get(peerId: string): PeerLink | undefined {
    const link = this.links.get(peerId);
    return link && link.isOpen ? link : undefined;
  }

  /**
   * The live link to a peer, waiting up to `timeoutMs` for it to come up (a member learned by
   * gossip is linked a moment later). Resolves undefined if it does not.
   */
  awaitLink(peerId: string, timeoutMs: number): Promise<PeerLink | undefined> {
    const existing = this.get(peerId);
    if (existing || this.stopped) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const onUp = (link: PeerLink): void => {
        if (link.peerId !== peerId) return;
        clearTimeout(timer);
        this.off('link:up', onUp);
        resolve(link);
      };
      const timer = setTimeout(() => {
        this.off('link:up', onUp);
        resolve(this.get(peerId));
      }, timeoutMs);
      this.on('link:up', onUp);
    });
  }

  /** Every open link. */
  all(): PeerLink[] {
    return [...this.links.values()].filter((link) => link.isOpen);
  }

  /** Ids of peers with an open link. */
  connectedIds(): string[] {
    return this.all().map((link) => link.peerId);
  }

  /** Sends a gossip frame to every open link. */
  broadcastGossip(records: MemberRecord[]): void {
    for (const link of this.links.values()) link.gossip(records);
  }

  /**
   * Sets the peers the mesh should link to (every known member but self, each with its
   * {@link LinkTarget} mode). Links to peers now dead (`slow`) or no longer known are closed;
   * links to `keep` peers stay as they are; missing `connect`/`slow` links are dialed.
   */
  setTargets(targets: LinkTarget[]): void {
    if (this.stopped) return;
    const selfId = this.components.self().id;
    const previous = this.targets;
    this.targets = new Map(targets.filter((t) => t.id !== selfId).map((t) => [t.id, t]));
    for (const [id, link] of this.links) {
      const target = this.targets.get(id);
      if (!target || target.mode === 'slow') {
        this.links.delete(id);
        link.close(LINK_CLOSE_CODES.MEMBER_GONE, target ? 'member is dead' : 'member is gone');
      }
    }
    for (const [id, state] of this.dialStates) {
      const target = this.targets.get(id);
      const before = previous.get(id);
      // A member that is gone, or came back (dead -> alive, or a new url after a restart), must
      // not wait for a slow re-dial scheduled while it was dead.
      if (!target || (before && (before.mode !== target.mode || before.url !== target.url))) {
        if (state.timer) clearTimeout(state.timer);
        state.timer = undefined;
        state.attempt = 0;
        if (!target) this.dialStates.delete(id);
      }
    }
    for (const target of this.targets.values()) this.scheduleDial(target);
  }

  /**
   * Dials a URL once and completes the handshake.
   * @returns the link, or undefined when the URL is this peer itself
   * @throws Error when the connection or the handshake fails (refusal message included)
   */
  async dial(url: string): Promise<PeerLink | undefined> {
    const self = this.components.self();
    if (sameEndpoint(url, self.url)) return undefined;
    const socket = new WebSocket(peerEndpoint(url), { maxPayload: this.config.maxFrameBytes, handshakeTimeout: this.config.handshakeTimeoutMs });
    this.pendingSockets.add(socket);
    try {
      let welcomed = false;
      const early: Array<[WebSocket.RawData, boolean]> = [];
      const welcome = await new Promise<Extract<PeerFrame, { t: 'welcome' }>>((resolve, reject) => {
        const timer = setTimeout(() => fail(new Error(`handshake with ${url} timed out`)), this.config.handshakeTimeoutMs);
        const fail = (error: Error): void => {
          clearTimeout(timer);
          socket.removeAllListeners('message');
          socket.terminate();
          reject(error);
        };
        socket.once('open', () => {
          const me = this.components.self();
          socket.send(encodePeerFrame({ t: 'hello', v: PROTOCOL_VERSION, from: me, members: this.components.members(), placement: this.components.placement }));
        });
        socket.on('message', (data, isBinary) => {
          if (welcomed) {
            // The acceptor may send right after its welcome (gossip, a handoff batch), possibly in
            // the same TCP read: keep those frames for the link instead of dropping them.
            early.push([data, isBinary]);
            return;
          }
          welcomed = true;
          const text = data.toString();
          const version = handshakeVersion(text);
          if (version !== undefined && version !== PROTOCOL_VERSION) {
            fail(new Error(`${url} speaks protocol version ${version}, this peer ${PROTOCOL_VERSION}`));
            return;
          }
          const frame = parsePeerFrame(text);
          if (frame?.t === 'welcome') {
            clearTimeout(timer);
            resolve(frame);
          } else if (frame?.t === 'refuse') fail(new Error(`${url} refused the handshake: ${frame.error.message}`));
          else fail(new Error(`${url} answered the handshake with something that is not a peer frame`));
        });
        socket.once('error', (error) => fail(error));
        socket.once('close', (code, reason) => fail(new Error(`${url} closed during the handshake (${code} ${reason.toString()})`)));
      });
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      if (this.stopped) {
        socket.close(LINK_CLOSE_CODES.STOPPING, 'peer stopping');
        return undefined;
      }
      if (welcome.from.id === self.id) {
        socket.close(LINK_CLOSE_CODES.NOT_A_PEER, 'that is me');
        return undefined;
      }
      const refusal = this.placementMismatch(welcome.placement) ?? this.components.onHandshake(welcome.from, welcome.members);
      if (refusal) {
        socket.close(LINK_CLOSE_CODES.NOT_A_PEER, refusal.slice(0, 120));
        throw new Error(refusal);
      }
      socket.removeAllListeners('message');
      const link = this.register(socket, welcome.from, self.id);
      for (const [data, isBinary] of early) link.receive(data, isBinary);
      return link;
    } finally {
      this.pendingSockets.delete(socket);
    }
  }

  /**
   * Takes an incoming WebSocket on the peer path and runs the accepting side of the handshake.
   * Anything but a valid `hello` within `handshakeTimeoutMs` is refused and closed.
   */
  accept(socket: WebSocket): void {
    if (this.stopped) {
      socket.close(LINK_CLOSE_CODES.STOPPING, 'peer stopping');
      return;
    }
    this.pendingSockets.add(socket);
    const refuse = (code: number, message: string): void => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(encodePeerFrame({ t: 'refuse', error: { code: 'HANDSHAKE_FAILED', message } }));
        socket.close(code, message.slice(0, 120));
      }
      this.pendingSockets.delete(socket);
    };
    const timer = setTimeout(() => refuse(LINK_CLOSE_CODES.NOT_A_PEER, 'no handshake in time'), this.config.handshakeTimeoutMs);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      this.pendingSockets.delete(socket);
    });
    socket.once('message', (data, isBinary) => {
      clearTimeout(timer);
      const text = isBinary ? '' : data.toString();
      // The version is checked before the shape: another version may shape its hello differently.
      const version = handshakeVersion(text);
      if (version !== undefined && version !== PROTOCOL_VERSION) {
        refuse(LINK_CLOSE_CODES.PROTOCOL_VERSION, `protocol version ${version} is not supported (this peer speaks ${PROTOCOL_VERSION})`);
        return;
      }
      const frame = parsePeerFrame(text);
      if (!frame || frame.t !== 'hello') {
        refuse(LINK_CLOSE_CODES.NOT_A_PEER, 'expected a hello frame: this endpoint is for ringcache peers');
        return;
      }
      const self = this.components.self();
      if (frame.from.id === self.id) {
        refuse(LINK_CLOSE_CODES.NOT_A_PEER, `peer id ${self.id} is this peer's own id`);
        return;
      }
      const refusal = this.placementMismatch(frame.placement) ?? this.components.onHandshake(frame.from, frame.members);
      if (refusal) {
        refuse(LINK_CLOSE_CODES.NOT_A_PEER, refusal);
        return;
      }
      socket.send(encodePeerFrame({ t: 'welcome', v: PROTOCOL_VERSION, from: this.components.self(), members: this.components.members(), placement: this.components.placement }));
      this.pendingSockets.delete(socket);
      socket.removeAllListeners('close');
      this.register(socket, frame.from, frame.from.id);
    });
  }

  /** Closes every link and pending socket and clears every timer. */
  stop(): void {
    this.stopped = true;
    for (const state of this.dialStates.values()) if (state.timer) clearTimeout(state.timer);
    this.dialStates.clear();
    for (const link of this.links.values()) link.close(LINK_CLOSE_CODES.STOPPING, 'peer stopping');
    this.links.clear();
    for (const socket of this.pendingSockets) socket.terminate();
    this.pendingSockets.clear();
  }

  private placementMismatch(remote: Placement): string | undefined {
    const local = this.components.placement;
    if (remote.vnodes === local.vnodes && remote.replicas === local.replicas) return undefined;
    return `placement mismatch: this peer uses --vnodes ${local.vnodes} --replicas ${local.replicas}, the other ${remote.vnodes} and ${remote.replicas}`;
  }

  private register(socket: WebSocket, remote: MemberRecord, dialerId: string): PeerLink {
    const selfId = this.components.self().id;
    const link = new PeerLink(socket, {
      remote,
      dialerId,
      handler: this.components.handler,
      onGossip: this.components.onGossip,
      piggyback: this.components.piggyback,
      turnBudget: this.components.turnBudget,
    });
    const existing = this.links.get(remote.id);
    let keep = link;
    if (existing && existing.isOpen) {
      const lowerId = selfId < remote.id ? selfId : remote.id;
      // Deterministic on both sides: keep the link dialed by the lower id; of two dialed by the
      // same side (a reconnect racing a half-dead link), keep the newer.
      keep = existing.dialerId === lowerId && link.dialerId !== lowerId ? existing : link;
      const loser = keep === link ? existing : link;
      loser.retire(selfId);
    }
    link.once('link:close', (code, reason) => {
      if (this.links.get(remote.id) !== link) return;
      this.links.delete(remote.id);
      this.emit('link:down', remote.id, code, reason);
      const target = this.targets.get(remote.id);
      if (target && !this.stopped) this.scheduleDial(target);
    });
    if (keep === link) {
      this.links.set(remote.id, link);
      const state = this.dialStates.get(remote.id);
      if (state) {
        if (state.timer) clearTimeout(state.timer);
        state.timer = undefined;
        state.attempt = 0;
      }
      this.emit('link:up', link);
    }
    return link;
  }

  private scheduleDial(target: LinkTarget): void {
    if (this.stopped || target.mode === 'keep' || this.get(target.id)) return;
    let state = this.dialStates.get(target.id);
    if (!state) {
      state = { attempt: 0, dialing: false };
      this.dialStates.set(target.id, state);
    }
    if (state.timer || state.dialing) return;
    const selfId = this.components.self().id;
    const lowerDials = selfId < target.id;
    const dead = target.mode === 'slow';
    if (dead && !lowerDials) return;
    const backoff = backoffDelayMs(state.attempt, this.config.reconnectBaseMs, this.config.reconnectMaxMs);
    const delay = dead ? this.config.reconnectMaxMs : lowerDials ? (state.attempt === 0 ? 0 : backoff) : this.config.reconnectMaxMs + backoff;
    const dialState = state;
    dialState.timer = setTimeout(() => {
      dialState.timer = undefined;
      void this.redial(target.id, dialState);
    }, delay);
    dialState.timer.unref?.();
  }

  private async redial(peerId: string, state: DialState): Promise<void> {
    const target = this.targets.get(peerId);
    if (this.stopped || !target || this.get(peerId)) return;
    state.dialing = true;
    try {
      const link = await this.dial(target.url);
      if (link && link.peerId !== peerId) {
        this.components.logger.warn({ expected: peerId, got: link.peerId, url: target.url }, 'a different peer answered at this url');
      }
      state.attempt = 0;
    } catch (error) {
      state.attempt += 1;
      this.components.logger.debug({ peer: peerId, attempt: state.attempt, err: (error as Error).message }, 'dial failed');
    } finally {
      state.dialing = false;
    }
    const current = this.targets.get(peerId);
    if (current && !this.get(peerId)) this.scheduleDial(current);
  }
}

/** The `v` of a hello or welcome frame, read before the frame's shape is validated. */
function handshakeVersion(text: string): number | undefined {
  try {
    const raw = JSON.parse(text) as { t?: unknown; v?: unknown };
    return (raw?.t === 'hello' || raw?.t === 'welcome') && typeof raw.v === 'number' ? raw.v : undefined;
  } catch {
    return undefined;
  }
}

function sameEndpoint(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.hostname === y.hostname && x.port === y.port;
  } catch {
    return false;
  }
}
