/**
 * Picks the WebSocket implementation of the client: an injected constructor, else the platform's
 * global `WebSocket` (browsers, Deno, Node >= 22), else the `ws` package on older Node.
 *
 * `ws` is loaded with a dynamic `import('ws')` on first use only, so a browser bundle that finds
 * a global `WebSocket` never evaluates it. Both implementations are driven through the
 * `addEventListener` API (the WHATWG one, which `ws` also implements), so the client has a single
 * code path.
 */

/** `readyState` values shared by the WHATWG WebSocket and `ws`. */
export const READY_STATE = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** The `message` event as both implementations deliver it: text frames arrive as strings. */
export interface SocketMessageEvent {
  data: unknown;
}

/** The `close` event: the close code (1006 when the connection was lost) and the reason text. */
export interface SocketCloseEvent {
  code: number;
  reason: string;
}

/** The `error` event: `ws` puts the cause in `error`; browsers give no detail at all. */
export interface SocketErrorEvent {
  error?: unknown;
  message?: string;
}

/**
 * The subset of a WebSocket the client uses, satisfied by the WHATWG `WebSocket` and by `ws`.
 * `terminate()` exists only on `ws`: it drops the connection without the closing handshake.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate?(): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
  addEventListener(type: 'error', listener: (event: SocketErrorEvent) => void): void;
}

/** A WebSocket constructor: `new WebSocket(url)`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

let wsModule: Promise<WebSocketConstructor> | undefined;

/**
 * Resolves the WebSocket constructor to use.
 * @param injected a constructor supplied by the caller (tests, custom agents); used as is
 * @returns `injected`, else `globalThis.WebSocket` when defined, else the `ws` package's class
 * @throws the error of a failed `import('ws')` (no global `WebSocket` and `ws` not installed)
 */
export async function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (injected) return injected;
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof global === 'function') return global as unknown as WebSocketConstructor;
  wsModule ??= import('ws').then(
    (mod) => (mod.WebSocket ?? mod.default) as unknown as WebSocketConstructor,
    (error: unknown) => {
      // Let a later attempt retry the import instead of caching the failure forever.
      wsModule = undefined;
      throw error;
    },
  );
  return wsModule;
}

/**
 * Opens a socket to `url` with the resolved implementation, in binary mode `arraybuffer` (the
 * client only expects text frames; binary ones are decoded as UTF-8).
 * @throws whatever the constructor throws for a malformed URL (a `SyntaxError` in both implementations)
 */
export function openWebSocket(Ctor: WebSocketConstructor, url: string): WebSocketLike {
  const socket = new Ctor(url);
  socket.binaryType = 'arraybuffer';
  return socket;
}

/** The part of a TCP socket (Node's `net.Socket`) that holds writes back: see {@link corkableTransport}. */
export interface CorkableTransport {
  cork(): void;
  uncork(): void;
}

/**
 * The TCP socket under a `ws` WebSocket (its `_socket`, set once the connection is open), whose
 * writes can be held back with `cork()` and sent together by `uncork()` as one `writev`.
 * Undefined for the WHATWG WebSocket (browsers, Node's global one), which exposes no transport,
 * and for a `ws` socket not open yet.
 */
export function corkableTransport(socket: object): CorkableTransport | undefined {
  const transport = (socket as { _socket?: Partial<CorkableTransport> | null })._socket;
  return transport != null && typeof transport.cork === 'function' && typeof transport.uncork === 'function' ? (transport as CorkableTransport) : undefined;
}

/**
 * Drops a socket without waiting for the closing handshake: `terminate()` on `ws`, `close()`
 * elsewhere (a browser tears the connection down on its own schedule).
 */
export function dropWebSocket(socket: WebSocketLike): void {
  try {
    if (typeof socket.terminate === 'function') socket.terminate();
    else if (socket.readyState !== READY_STATE.CLOSED) socket.close();
  } catch {
    // Closing an already failed socket may throw in some implementations; it is gone either way.
  }
}

/**
 * Closes a socket with code 1000 and resolves once it is closed. When the closing handshake has
 * not finished within `graceMs` (a peer that stopped answering), the socket is dropped instead, so
 * no timer or connection outlives the call.
 */
export function closeWebSocket(socket: WebSocketLike, graceMs: number): Promise<void> {
  if (socket.readyState === READY_STATE.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      dropWebSocket(socket);
      resolve();
    }, graceMs);
    socket.addEventListener('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (socket.readyState !== READY_STATE.OPEN) {
      dropWebSocket(socket);
      return;
    }
    try {
      socket.close(1000, 'client closed');
    } catch {
      dropWebSocket(socket);
    }
  });
}

/** Decodes a frame's `data` to text: strings as they are, binary data as UTF-8. */
export function frameText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return undefined;
}
