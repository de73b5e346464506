/**
 * One WebSocket of the client to one peer, from the connection attempt to the close, with its
 * write queue ({@link FrameBatcher}). The client keeps one such link for its failover connection
 * and, with `routing: 'ring'`, one per peer it sends keys to directly.
 *
 * A link reports to its owner exactly once that it is gone (`close`), whether the attempt failed,
 * timed out or an open socket closed, and never again after the owner let go of it ({@link drop},
 * {@link close}): events of an abandoned socket are ignored, but its listeners stay, because `ws`
 * throws an `error` event that has no listener.
 */
import { CacheError } from '../errors.js';
import { FrameBatcher, type FlushScheduler } from './frame-batcher.js';
import { READY_STATE, closeWebSocket, corkableTransport, dropWebSocket, openWebSocket, type CorkableTransport, type WebSocketConstructor, type WebSocketLike } from './websocket-factory.js';

/** A request as a link sees it: its frame, where it is queued or written, and whether it still waits. */
export interface LinkedRequest {
  /** The request object as JSON text. */
  readonly frame: string;
  /** The link the request is queued on or was written to; undefined while it waits for a link. */
  link: ClientLink | undefined;
  /** True once written to `link`'s socket. */
  sent: boolean;
  /** True once the call resolved or rejected. */
  settled: boolean;
}

/** How a link ended: `opened` false for a failed attempt (`cause` says why), true for a drop (`code`, `reason`). */
export interface LinkCloseInfo {
  opened: boolean;
  /** The WebSocket close code (1006 when the connection was lost; 0 for a failed attempt). */
  code: number;
  reason: string;
  /** Why the attempt failed: the socket's error, or a `TIMEOUT` CacheError for a handshake past the deadline. */
  cause: unknown;
}

/** What a link reports to its owner. */
export interface ClientLinkHandlers {
  open(link: ClientLink): void;
  message(link: ClientLink, data: unknown): void;
  /** Called once, when the link is gone, unless the owner let go of it first. */
  close(link: ClientLink, info: LinkCloseInfo): void;
}

/** Settings of a link. */
export interface ClientLinkOptions {
  /** Deadline of the TCP + WebSocket handshake, in ms. */
  connectTimeoutMs: number;
  /** Most requests per frame (1 = no batching). */
  maxBatch: number;
  /** When a batch is written (see `flushScheduler`). */
  schedule: FlushScheduler;
}

/** One client WebSocket and its write queue. */
export class ClientLink {
  /** True once the WebSocket handshake completed. */
  opened = false;
  /** Requests written to this socket and not settled yet. */
  inFlight = 0;
  /** Set when the link's peer left the client's ring: no new requests; closed once idle. */
  retiring = false;

  private released = false;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private socketError: unknown;
  private readonly socket: WebSocketLike;
  private readonly batcher: FrameBatcher<LinkedRequest>;
  /**
   * Without batching (`maxBatch` 1), the TCP socket under `ws` is corked from the first frame of a
   * turn until `schedule` runs, so the frames of one turn leave in one `writev` rather than one
   * write each (as the load generator's and a pipelining client's do). With batching every turn
   * already writes one frame per socket, from the scheduled flush itself.
   */
  private readonly corkPerTurn: boolean;
  private readonly schedule: FlushScheduler;
  /** The transport corked until the end of this turn, if any. */
  private corked: CorkableTransport | undefined = undefined;
  private readonly uncork = (): void => {
    const transport = this.corked;
    this.corked = undefined;
    transport?.uncork();
  };

  /**
   * Opens a socket to `url` at once.
   * @throws whatever the WebSocket constructor throws for a malformed URL
   */
  constructor(
    Ctor: WebSocketConstructor,
    readonly url: string,
    options: ClientLinkOptions,
    private readonly handlers: ClientLinkHandlers,
  ) {
    this.batcher = new FrameBatcher<LinkedRequest>(
      {
        frameOf: (request) => (request.link === this && !request.sent && !request.settled ? request.frame : undefined),
        write: (text, requests) => this.write(text, requests),
      },
      options.maxBatch,
      options.schedule,
    );
    this.corkPerTurn = options.maxBatch === 1;
    this.schedule = options.schedule;
    const socket = openWebSocket(Ctor, url);
    this.socket = socket;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      if (this.released) return;
      this.released = true;
      dropWebSocket(socket);
      this.handlers.close(this, { opened: false, code: 0, reason: '', cause: new CacheError('TIMEOUT', `no WebSocket handshake within ${options.connectTimeoutMs} ms`) });
    }, options.connectTimeoutMs);

    socket.addEventListener('open', () => {
      if (this.released) return;
      this.opened = true;
      this.clearConnectTimer();
      this.handlers.open(this);
    });
    socket.addEventListener('message', (event) => {
      if (!this.released) this.handlers.message(this, event.data);
    });
    socket.addEventListener('error', (event) => {
      if (!this.released) this.socketError = event.error ?? new Error(event.message || 'WebSocket error');
    });
    socket.addEventListener('close', (event) => {
      if (this.released) return;
      this.released = true;
      this.clearConnectTimer();
      const cause = this.opened ? undefined : (this.socketError ?? new Error(`closed with code ${event.code} before the handshake`));
      this.handlers.close(this, { opened: this.opened, code: event.code, reason: event.reason, cause });
    });
  }

  /** True while requests can be written: open, not let go of, not closing. */
  get isOpen(): boolean {
    return this.opened && !this.released && this.socket.readyState === READY_STATE.OPEN;
  }

  /**
   * Queues a request whose `link` is this link; it is written with the others of the tick. A
   * request that is settled or moved to another link before the flush is skipped.
   */
  enqueue(request: LinkedRequest): void {
    this.batcher.add(request);
  }

  /** Lets go of the link and drops its connection without the closing handshake; no more reports. */
  drop(): void {
    this.release();
    dropWebSocket(this.socket);
  }

  /**
   * Lets go of the link and closes it with code 1000, waiting up to `graceMs` for the closing
   * handshake (then dropping it). No more reports. Resolves once the socket is closed.
   */
  close(graceMs: number): Promise<void> {
    this.release();
    return closeWebSocket(this.socket, graceMs);
  }

  private release(): void {
    this.released = true;
    this.clearConnectTimer();
  }

  private write(text: string, requests: readonly LinkedRequest[]): void {
    // A socket that is closing reports its close; its unsent requests then move to another link.
    if (!this.isOpen) return;
    try {
      if (this.corkPerTurn && this.corked === undefined) {
        const transport = corkableTransport(this.socket);
        if (transport !== undefined) {
          this.corked = transport;
          transport.cork();
          this.schedule(this.uncork);
        }
      }
      this.socket.send(text);
    } catch {
      // Left unsent: they move on when the socket reports its close, or meet their deadline.
      return;
    }
    for (const request of requests) request.sent = true;
    this.inFlight += requests.length;
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }
}
