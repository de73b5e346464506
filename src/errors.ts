/**
 * The one error catalogue of ringcache. Every error a peer or the client raises carries one of
 * these stable codes; the same code goes on the wire in `{"ok": false, "error": {"code", "message"}}`
 * replies. `docs/protocol.md` lists every code and a test keeps that list equal to this catalogue.
 *
 * Codes are append-only: never rename or reuse one.
 */
export const ERROR_CODES = {
  /** Unparseable JSON, a missing or mistyped field, a bad argument. */
  BAD_REQUEST: 'the request is malformed: unparseable JSON, or a missing or mistyped field',
  /** The `op` field names no operation this peer knows. */
  UNKNOWN_OP: 'the op names no known operation',
  /** `incr` on a value that is not an integer (or would leave the safe-integer range). */
  NOT_A_NUMBER: 'the stored value is not an integer',
  /** A key, value or frame is larger than the configured limit. */
  TOO_LARGE: 'a key, value or frame exceeds its configured size limit',
  /** The deadline of a request passed before a reply arrived. */
  TIMEOUT: 'the request did not complete before its deadline',
  /** No live peer could serve the request: a link dropped, the owners are unreachable, the peer is stopping. */
  UNAVAILABLE: 'no reachable peer could serve the request',
  /** The store is full and its eviction policy refuses the write. */
  OUT_OF_MEMORY: 'the store is full and cannot admit the entry',
  /** The caller aborted the request through its AbortSignal. */
  ABORTED: 'the caller aborted the request',
  /** A peer handshake failed: wrong protocol version, not a peer, or a duplicate id. */
  HANDSHAKE_FAILED: 'the peer handshake was refused',
  /** A configuration value or CLI flag is invalid. */
  BAD_CONFIG: 'a configuration value is invalid',
  /** An unexpected fault inside the peer; the peer keeps serving. */
  INTERNAL: 'an unexpected internal error',
} as const;

/** A stable error code, as sent on the wire. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The wire shape of an error inside a reply: `{"code": "TIMEOUT", "message": "..."}`. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/**
 * The error class of ringcache: a stable `code` from {@link ERROR_CODES} and a human message.
 * Thrown by the peer internals, rejected by {@link CacheClient} calls, and sent on the wire.
 */
export class CacheError extends Error {
  readonly code: ErrorCode;

  /**
   * @param code a stable code from the catalogue
   * @param message a human-readable message (defaults to the catalogue's description)
   * @param options.cause the underlying error, if any
   */
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options);
    this.name = 'CacheError';
    this.code = code;
  }

  /** The wire shape `{code, message}` of this error. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }

  /** Rebuilds an error received on the wire; an unknown code becomes `INTERNAL`. */
  static fromWire(error: unknown): CacheError {
    if (error && typeof error === 'object') {
      const { code, message } = error as { code?: unknown; message?: unknown };
      const knownCode = typeof code === 'string' && isErrorCode(code) ? code : 'INTERNAL';
      return new CacheError(knownCode, typeof message === 'string' ? message : undefined);
    }
    return new CacheError('INTERNAL', 'malformed error reply');
  }
}

/** True when `code` is one of the catalogue's codes. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** Converts anything thrown into a {@link CacheError}; non-cache errors become `INTERNAL`. */
export function toCacheError(error: unknown): CacheError {
  if (error instanceof CacheError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CacheError('INTERNAL', message, { cause: error });
}
