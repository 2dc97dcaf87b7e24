/**
 * One pairlink connection that keeps itself up: the state machine shared by
 * {@link Display} and {@link Controller}.
 *
 * ```text
 * connecting ──welcome──▶ open ──drop──▶ reconnecting(attempt, delay, reason) ──welcome──▶ open
 *      │                    │                     │
 *      └────────────────────┴──final close, close(), abort──▶ closed(reason)
 * ```
 *
 * - A connection is `open` once the server's welcome arrived, not when the socket opens:
 *   a refusal (v2 sends it in-band, after the upgrade) never looks like a success.
 * - Final closes end it (4001 replaced, 4400 invalid_uuid, 4403, 4404, 1009, a 4401 with no
 *   new token); every other close is retried with jittered backoff, 4429 no sooner than
 *   its `retry_after`. The attempt count starts again after 30 s open.
 * - Requests in flight when a connection ends fail with `connection_lost` and are never
 *   sent again. Liveness is the app-level ping ({@link Liveness}).
 *
 * @module
 */

import { Backoff } from './backoff.js';
import { ConnectionLostError, NotConnectedError, PairlinkError, RefusedError, ServerError } from './errors.js';
import { Emitter } from './events.js';
import { Liveness } from './liveness.js';
import type { CloseReason, ConnectionEvents, ConnectionOptions, ConnectionState } from './options.js';
import {
  closeVerdict,
  type JsonValue,
  parseServerMessage,
  type ServerMessage,
  SUBPROTOCOL,
  type Welcome,
} from './protocol.js';
import { Requests } from './requests.js';
import { OPEN, type WebSocketConstructor, type WebSocketLike, webSocketConstructor } from './transport.js';
import { serverBase, socketUrl } from './urls.js';

/** How long a connection must stay open for the next drop to start the backoff over. */
const STABLE_MS = 30_000;

/** The state machine, the socket and the requests; Display and Controller add their messages. */
export abstract class Connection<Events extends ConnectionEvents> extends Emitter<Events> {
  readonly #options: ConnectionOptions;
  readonly #base: URL;
  readonly #backoff: Backoff;
  readonly #liveness = new Liveness();
  readonly #requests = new Requests();
  #state: ConnectionState = { type: 'connecting' };
  #socket: WebSocketLike | null = null;
  /** Bumped whenever an attempt is abandoned, so a late callback of an old one does nothing. */
  #attempt = 0;
  /** The wait before the next attempt. */
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The limit on an attempt, from the socket's creation to the welcome. */
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #openedAt: number | undefined;
  #welcome: Welcome | null = null;
  #peer = false;
  /** The error a refused connection received just before its close. */
  #refusal: { code: string; message: string; retryAfter: number | undefined } | undefined;
  /** What the WebSocket implementation said went wrong, when it says anything. */
  #socketError: string | undefined;
  #token: string | undefined;
  /** Set by a 4401: the token that was refused, which must not be presented again. */
  #refusedToken: { token: string | undefined } | undefined;
  /** The reason of the last close, to end with when a 4401 brings no new token. */
  #lastReason: CloseReason | undefined;
  #onAbort = (): void => this.#end({ code: 1000, reason: 'aborted' });

  protected constructor(options: ConnectionOptions) {
    super();
    this.#options = options;
    this.#base = serverBase(options.url);
    this.#backoff = new Backoff(options.backoff);
    this.#token = options.token;
  }

  /** Where it is now. It starts as `connecting`. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The welcome of the current connection, or the last one; `null` before the first. */
  get welcome(): Welcome | null {
    return this.#welcome;
  }

  /** Whether the other role is connected, as the server last said; `false` while this side is not open. */
  get peerConnected(): boolean {
    return this.#state.type === 'open' && this.#peer;
  }

  /** The server's base URL, normalised to `ws:` or `wss:`. */
  protected get base(): URL {
    return this.#base;
  }

  /**
   * Sends relay data to the other side: a JSON value as `{"type":"relay"}`, a
   * `Uint8Array` or `ArrayBuffer` as a binary frame. Returns `false`, sending nothing,
   * when the connection is not open. Relay data is never held or sent again: if the
   * other side is absent the server drops it and an `error` event says so.
   */
  relay(data: JsonValue | Uint8Array | ArrayBuffer): boolean {
    const socket = this.#openSocket();
    if (!socket) return false;
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      this.#checkSize(data.byteLength);
      socket.send(data);
      return true;
    }
    if (data === undefined) throw new TypeError('pairlink: relay data must be a JSON value or bytes, not undefined');
    this.#sendText(socket, JSON.stringify({ type: 'relay', data }));
    return true;
  }

  /** An app-level ping: resolves with the round trip in milliseconds. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.request({ type: 'ping' });
    return Date.now() - started;
  }

  /** While waiting to reconnect: tries now, and starts the backoff over (say, when a page becomes visible again). */
  retryNow(): void {
    if (this.#state.type !== 'reconnecting' || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoff.reset();
    void this.#connect();
  }

  /** Closes for good: in-flight requests fail with `connection_lost`, and nothing reconnects. */
  close(): void {
    this.#end({ code: 1000, reason: 'closed' });
  }

  /** Starts the first connection; subclasses call it once their own fields are set. */
  protected start(): void {
    const signal = this.#options.signal;
    if (signal?.aborted) {
      this.#onAbort();
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    void this.#connect();
  }

  /** The path of the next attempt, e.g. `/ws/difficulty/unity/{uuid}`. */
  protected abstract path(): string;

  /** A message only this role receives (a display's draw). */
  protected abstract received(message: ServerMessage): void;

  /** Learns from a welcome (a controller that joined with a code learns its UUID). */
  protected welcomed(_welcome: Welcome): void {}

  /** What to do after a close; a controller overrides it for codes that ended. */
  protected verdict(code: number, reason: string): 'final' | 'token' | 'retry' {
    return closeVerdict(code, reason);
  }

  /** The error for a server `error` no request was waiting for. */
  protected unsolicited(message: Extract<ServerMessage, { type: 'error' }>): ServerError {
    return new ServerError(message.code, message.message, message.id);
  }

  /** Sends `fields` with a fresh id and resolves with the answer (`ack`, `pong`) or rejects with its error. */
  protected request(fields: Record<string, JsonValue>): Promise<{ answer: ServerMessage; id: number }> {
    const socket = this.#openSocket();
    if (!socket) return Promise.reject(new NotConnectedError());
    const id = this.#requests.nextId();
    return new Promise((resolve, reject) => {
      try {
        this.#sendText(socket, JSON.stringify({ ...fields, id }));
      } catch (error) {
        reject(error);
        return;
      }
      this.#requests.add(id, { resolve: (answer) => resolve({ answer, id }), reject });
    });
  }

  /** Emits an event of the role's own (`draw`). */
  protected dispatch<K extends keyof Events>(name: K, event: Events[K]): void {
    this.emit(name, event);
  }

  #openSocket(): WebSocketLike | null {
    const socket = this.#socket;
    return this.#state.type === 'open' && socket && socket.readyState === OPEN ? socket : null;
  }

  #sendText(socket: WebSocketLike, text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only long texts need counting.
    if (this.#welcome && text.length * 3 > this.#welcome.maxMessageBytes) {
      this.#checkSize(new TextEncoder().encode(text).byteLength);
    }
    socket.send(text);
  }

  /** The server closes a connection that sends more than it accepts (1009, final): refuse it here instead. */
  #checkSize(bytes: number): void {
    const limit = this.#welcome?.maxMessageBytes;
    if (limit !== undefined && bytes > limit) {
      throw new PairlinkError('message_too_big', `${bytes} bytes is more than the server accepts (${limit})`);
    }
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.emit('state', state as Events['state']);
  }

  /** A method, so that TypeScript does not narrow the state across an `await`. */
  #closed(): boolean {
    return this.#state.type === 'closed';
  }

  async #connect(): Promise<void> {
    if (this.#closed()) return;
    const attempt = ++this.#attempt;
    let WebSocket: WebSocketConstructor;
    let token: string | undefined;
    try {
      WebSocket = await webSocketConstructor(this.#options.WebSocket);
    } catch (error) {
      this.#end({ code: 1006, reason: 'no_websocket', error: error as PairlinkError });
      return;
    }
    try {
      token = await this.#nextToken();
    } catch (error) {
      if (attempt !== this.#attempt) return;
      const failure = new PairlinkError('token_provider_failed', 'the token provider failed', { cause: error });
      this.emit('error', failure as Events['error']);
      this.#retry({ code: 1006, reason: 'token_provider_failed', error: failure });
      return;
    }
    if (attempt !== this.#attempt || this.#closed()) return;
    if (this.#refusedToken && (token === undefined || token === this.#refusedToken.token)) {
      // A 4401, and nothing new to present: retrying would be refused the same way.
      this.#end(this.#lastReason ?? { code: 4401, reason: 'token_required' });
      return;
    }
    this.#refusedToken = undefined;
    this.#refusal = undefined;
    this.#socketError = undefined;
    this.#token = token;
    const socket = new WebSocket(socketUrl(this.#base, this.path(), token), [SUBPROTOCOL]);
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    this.#connectTimer = setTimeout(() => {
      this.#drop(socket, { code: 1006, reason: 'connect_timeout' });
    }, this.#options.connectTimeout ?? 10_000);
    // Browsers say nothing about why; ws and undici give a message (say, a server too
    // old to offer pairlink.v2), kept for the close reason.
    socket.onerror = (event) => {
      const message = (event as { message?: unknown } | null)?.message;
      if (typeof message === 'string' && message && socket === this.#socket) this.#socketError = message;
    };
    socket.onopen = () => {
      if (socket.protocol !== SUBPROTOCOL) {
        const error = new PairlinkError('v2_unsupported', `the server did not accept ${SUBPROTOCOL}: it is too old`);
        this.#drop(socket, { code: 1006, reason: 'v2_unsupported', error }, 'final');
      }
    };
    socket.onmessage = ({ data }) => this.#frame(socket, data);
    socket.onclose = ({ code, reason }) => this.#socketClosed(socket, code, reason);
  }

  async #nextToken(): Promise<string | undefined> {
    const provider = this.#options.tokenProvider;
    if (!provider) return this.#refusedToken ? undefined : this.#token;
    return (await provider()) ?? undefined;
  }

  #frame(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return;
    this.#liveness.heard();
    if (data instanceof ArrayBuffer) {
      this.emit('relay', { binary: true, data: new Uint8Array(data) } as Events['relay']);
      return;
    }
    if (ArrayBuffer.isView(data)) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.emit('relay', { binary: true, data: bytes } as Events['relay']);
      return;
    }
    const message = typeof data === 'string' ? parseServerMessage(data) : null;
    if (!message) {
      const error = new PairlinkError(
        'unexpected_message',
        `the server sent something that is not a v2 message: ${String(data).slice(0, 100)}`,
      );
      this.emit('error', error as Events['error']);
      return;
    }
    if (this.#state.type !== 'open') {
      this.#beforeWelcome(socket, message);
      return;
    }
    this.#message(message);
  }

  #beforeWelcome(socket: WebSocketLike, message: ServerMessage): void {
    if (message.type === 'error') {
      this.#refusal = { code: message.code, message: message.message, retryAfter: message.retryAfter };
      return;
    }
    if (message.type !== 'welcome') return;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    const welcome = message.welcome;
    this.#welcome = welcome;
    this.#peer = welcome.peer;
    this.#openedAt = Date.now();
    this.welcomed(welcome);
    const interval = Math.max(10, Math.min(this.#options.pingInterval ?? 10_000, welcome.idleTimeoutMs / 3));
    this.#liveness.start(
      interval,
      () => {
        if (socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'ping', id: this.#requests.nextId() }));
      },
      () => {
        const error = new PairlinkError('ping_timeout', `no answer from the server within ${2 * interval} ms`);
        this.#drop(socket, { code: 1006, reason: 'ping_timeout', error });
      },
    );
    this.#setState({ type: 'open', welcome });
    this.emit('peer', {
      role: welcome.role === 'display' ? 'controller' : 'display',
      connected: welcome.peer,
    } as Events['peer']);
  }

  #message(message: ServerMessage): void {
    switch (message.type) {
      case 'ack':
      case 'pong':
        this.#requests.take(message.id)?.resolve(message);
        return;
      case 'error': {
        const pending = this.#requests.take(message.id);
        if (pending) pending.reject(new ServerError(message.code, message.message, message.id));
        else this.emit('error', this.unsolicited(message) as Events['error']);
        return;
      }
      case 'peer':
        this.#peer = message.presence.connected;
        this.emit('peer', message.presence as Events['peer']);
        return;
      case 'relay':
        this.emit('relay', { binary: false, data: message.data } as Events['relay']);
        return;
      case 'welcome':
      case 'unknown':
        return;
      default:
        this.received(message);
    }
  }

  #socketClosed(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    const refusal = this.#refusal;
    const why: CloseReason = {
      code,
      reason: refusal?.code ?? (reason || (code === 1006 ? 'network_lost' : String(code))),
    };
    if (refusal) {
      why.error = new RefusedError(refusal.code, refusal.message, code, refusal.retryAfter);
    } else if (code >= 4000) {
      why.error = new RefusedError(why.reason, `the server closed the connection: ${code} ${reason}`, code);
    } else if (this.#socketError) {
      why.error = new PairlinkError(why.reason, this.#socketError);
    }
    this.#drop(socket, why, this.verdict(code, why.reason), (refusal?.retryAfter ?? 0) * 1000);
  }

  /** This socket is done (closed by the server, or given up on here): clean up, then retry or end. */
  #drop(socket: WebSocketLike, why: CloseReason, verdict = 'retry', minDelay = 0): void {
    if (socket !== this.#socket) return;
    this.#detach();
    if (this.#openedAt !== undefined && Date.now() - this.#openedAt >= STABLE_MS) this.#backoff.reset();
    this.#openedAt = undefined;
    this.#lastReason = why;
    if (verdict === 'final') {
      this.#end(why);
    } else if (verdict === 'token') {
      if (!this.#options.tokenProvider) {
        this.#end(why);
        return;
      }
      this.#refusedToken = { token: this.#token };
      this.#retry(why);
    } else {
      this.#retry(why, minDelay);
    }
  }

  /** Forgets the current socket (closing it if it is still up) and fails what waited on it. */
  #detach(): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#attempt += 1;
    this.#liveness.stop();
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#requests.failAll(() => new ConnectionLostError());
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    try {
      socket.close(1000);
    } catch {
      // Already closing or closed.
    }
  }

  #retry(why: CloseReason, minDelay = 0): void {
    const { attempt, delay: jittered } = this.#backoff.next();
    const delay = Math.max(jittered, minDelay);
    // The timer first: a state handler that calls close() must find it to cancel it.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delay);
    this.#setState({ type: 'reconnecting', attempt, delay, reason: why });
  }

  #end(why: CloseReason): void {
    if (this.#state.type === 'closed') return;
    this.#detach();
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#setState({ type: 'closed', reason: why });
  }
}
