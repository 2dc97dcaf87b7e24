/**
 * The errors the SDK rejects promises with and reports as `error` events. Every one is a
 * {@link PairlinkError} with a `code`; the subclasses say what happened, so that an app
 * can branch on what to do next: code against `code` and the class, not the message.
 *
 * @module
 */

/** Anything pairlink or the SDK reports. `code` is pairlink's error code where there is one. */
export class PairlinkError extends Error {
  /** Machine-readable: `no_content`, `display_offline`, `connection_lost`, … */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The server answered with an error: to a request (`no_content`, `queue_full`,
 * `rate_limited`, `invalid_difficulty`, `display_offline` …), to relay data that could
 * not be delivered (`controller_offline`, `display_offline`), or later, for a held draw
 * (`expired`). The connection stays open.
 */
export class ServerError extends PairlinkError {
  /** The request id the error answers, if it answers one. */
  readonly id: string | number | undefined;
  /** For `expired`: the difficulty of the held draw that expired, when the SDK still knew it. */
  readonly difficulty: number | undefined;

  constructor(code: string, message: string, id?: string | number, difficulty?: number) {
    super(code, message);
    this.id = id;
    this.difficulty = difficulty;
  }
}

/**
 * A request was sent but its connection ended before the answer came (`connection_lost`).
 * The SDK never sends it again by itself: the server may have acted on it (a difficulty
 * re-sent would be a second draw). Ask the app's user, or send it again knowingly.
 */
export class ConnectionLostError extends PairlinkError {
  constructor(message = 'the connection ended before the server answered; the request was not sent again') {
    super('connection_lost', message);
  }
}

/** Nothing was sent: there is no open connection right now (`not_connected`). */
export class NotConnectedError extends PairlinkError {
  constructor(message = 'not connected: nothing was sent') {
    super('not_connected', message);
  }
}

/**
 * The server refused the connection or closed it for a stated reason: the close code
 * (4400, 4401, 4404, 4001, …) and, when the server sent one, its error's code and message.
 * Carried by `reconnecting` and `closed` states.
 */
export class RefusedError extends PairlinkError {
  /** The WebSocket close code. */
  readonly closeCode: number;
  /** For `too_many_guesses`: seconds to wait before trying again. */
  readonly retryAfter: number | undefined;

  constructor(code: string, message: string, closeCode: number, retryAfter?: number) {
    super(code, message);
    this.closeCode = closeCode;
    this.retryAfter = retryAfter;
  }
}

/** An HTTP request to pairlink (a pairing code, its QR code) failed. */
export class HttpError extends PairlinkError {
  /** The HTTP status, or 0 when no answer came. */
  readonly status: number;

  constructor(code: string, message: string, status: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/**
 * An app's event handler threw (`handler_failed`). The SDK caught it and carried on; the
 * thrown value is the `cause`.
 */
export class HandlerError extends PairlinkError {
  /** The event whose handler threw. */
  readonly event: string;

  constructor(event: string, cause: unknown) {
    super('handler_failed', `a '${event}' handler threw: ${String(cause)}`, { cause });
    this.event = event;
  }
}
