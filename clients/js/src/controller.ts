/**
 * The controller: the phone. It connects with its pair's UUID, or joins with a pairing
 * code; sends difficulties, each answered with a promise; sends and receives relay data
 * and sees its display's presence.
 *
 * Joining with a code: the welcome tells the UUID. Later reconnects use the code while
 * it lives, since `/ws/join/{code}` needs no token; once the code has ended (its display
 * disconnected, or `--code-ttl` passed) the server answers 4404 `unknown_code`, and the
 * controller goes on by UUID, at `/ws/difficulty/android/{uuid}`, waiting for the display
 * as any controller does. On a server with `--auth-secret` that needs a token: give the
 * controller a `tokenProvider` for it, or the display shows a new code. A 4404 before
 * any welcome (a mistyped or old code) is final.
 *
 * @module
 */

import { Connection } from './connection.js';
import { PairlinkError, ServerError } from './errors.js';
import type { ConnectionEvents, ConnectionOptions } from './options.js';
import { closeVerdict, type ServerMessage, type Welcome } from './protocol.js';

/** Options of a {@link Controller}: the pair's `uuid`, or a pairing `code`. */
export type ControllerOptions = ConnectionOptions & ({ uuid: string; code?: never } | { code: string; uuid?: never });

/** What a {@link Controller} emits: `state`, `relay`, `peer`, `error`. */
export type ControllerEvents = ConnectionEvents;

/** How a difficulty was taken: delivered to the display, or held for it. */
export type DifficultyStatus = 'received' | 'queued';

/** How long after its hold time a queued draw's difficulty is remembered for an `expired` error. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * A controller connection (`/ws/difficulty/android/{uuid}` or `/ws/join/{code}`) that
 * keeps itself up, and waits for its display when the display is not there yet. It
 * starts connecting at once.
 *
 * ```ts
 * const controller = new Controller({ url: 'wss://play.example.com', code: 'K7M2QX' });
 * const status = await controller.difficulty(2); // 'received' or 'queued'
 * ```
 */
export class Controller extends Connection<ControllerEvents> {
  readonly #code: string | undefined;
  #uuid: string | undefined;
  #codeEnded = false;
  /** Queued draws by request id, so that a later `expired` can say which difficulty it was. */
  readonly #queued = new Map<number | string, { difficulty: number; at: number }>();

  constructor(options: ControllerOptions) {
    super(options);
    if (typeof options.code === 'string') this.#code = options.code.trim().toUpperCase();
    else if (typeof options.uuid === 'string') this.#uuid = options.uuid;
    else throw new TypeError('pairlink: a Controller needs a uuid or a code');
    this.start();
  }

  /** The pair's UUID: as given, or learned from the welcome after joining with a code. */
  get uuid(): string | undefined {
    return this.#uuid;
  }

  /** The pairing code it joined with, in capitals; `undefined` for a controller by UUID. */
  get code(): string | undefined {
    return this.#code;
  }

  /**
   * Asks for a draw at `difficulty`. Resolves with `received` (written to the display's
   * socket) or `queued` (held for an absent display; if it expires first, an `error`
   * event with code `expired` follows). Rejects with a {@link ServerError} (`no_content`,
   * `display_offline`, `queue_full`, `rate_limited`, …), a `NotConnectedError` when not
   * open, or a `ConnectionLostError` when the connection ended before the answer: the
   * difficulty is then never sent again by the SDK.
   */
  async difficulty(difficulty: number): Promise<DifficultyStatus> {
    if (!Number.isSafeInteger(difficulty)) {
      throw new PairlinkError('invalid_difficulty', `a difficulty is an integer, not ${String(difficulty)}`);
    }
    const { answer, id } = await this.request({ type: 'difficulty', difficulty });
    if (answer.type !== 'ack')
      throw new PairlinkError('unexpected_message', `the server answered a difficulty with ${answer.type}`);
    if (answer.status === 'queued') this.#remember(id, difficulty);
    return answer.status;
  }

  protected override path(): string {
    if (this.#code !== undefined && !(this.#codeEnded && this.#uuid)) {
      return `/ws/join/${encodeURIComponent(this.#code)}`;
    }
    return `/ws/difficulty/android/${encodeURIComponent(this.#uuid ?? '')}`;
  }

  protected override received(_message: ServerMessage): void {}

  protected override welcomed(welcome: Welcome): void {
    this.#uuid = welcome.uuid;
  }

  protected override verdict(code: number, reason: string): 'final' | 'token' | 'retry' {
    if (code === 4404 && this.#code !== undefined && this.#uuid !== undefined) {
      this.#codeEnded = true;
      return 'retry';
    }
    return closeVerdict(code, reason);
  }

  protected override unsolicited(message: Extract<ServerMessage, { type: 'error' }>): ServerError {
    const queued = message.id === undefined ? undefined : this.#queued.get(message.id);
    if (message.code === 'expired' && message.id !== undefined) this.#queued.delete(message.id);
    return new ServerError(message.code, message.message, message.id, queued?.difficulty);
  }

  #remember(id: number, difficulty: number): void {
    const now = Date.now();
    const keep = (this.welcome?.holdMs ?? 0) + EXPIRY_MARGIN_MS;
    for (const [key, entry] of this.#queued) {
      if (now - entry.at > keep) this.#queued.delete(key);
    }
    this.#queued.set(id, { difficulty, at: now });
  }
}
