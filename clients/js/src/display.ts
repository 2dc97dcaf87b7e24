/**
 * The display: the headset, a WebXR page, a big screen. It connects with its pair's
 * UUID, receives draws, relay data and its controller's presence, sends relay data, and
 * asks for a pairing code to show.
 *
 * @module
 */

import { Connection } from './connection.js';
import type { ConnectionEvents, ConnectionOptions } from './options.js';
import { type PairingCode, requestPairingCode } from './pairing-code.js';
import type { Draw, ServerMessage } from './protocol.js';

/** Options of a {@link Display}. */
export interface DisplayOptions extends ConnectionOptions {
  /** The pair's UUID (any version, hyphenated). */
  uuid: string;
}

/** What a {@link Display} emits: `state`, `draw`, `relay`, `peer`, `error`. */
export interface DisplayEvents extends ConnectionEvents {
  /** Quizzes and an action drawn for a controller's difficulty (held ones after a reconnect). */
  draw: Draw;
}

/**
 * A display connection (`/ws/difficulty/unity/{uuid}`) that keeps itself up. It starts
 * connecting at once.
 *
 * ```ts
 * const display = new Display({ url: 'wss://play.example.com', uuid });
 * display.on('draw', (draw) => showQuizzes(draw.quizIds, draw.actionId));
 * ```
 */
export class Display extends Connection<DisplayEvents> {
  readonly #uuid: string;
  readonly #token: string | undefined;
  readonly #tokenProvider: ConnectionOptions['tokenProvider'];

  constructor(options: DisplayOptions) {
    super(options);
    this.#uuid = options.uuid;
    this.#token = options.token;
    this.#tokenProvider = options.tokenProvider;
    this.start();
  }

  /** The pair's UUID, as given. */
  get uuid(): string {
    return this.#uuid;
  }

  /**
   * A pairing code for this display, with its QR code as PNG bytes. The display must be
   * connected (the server answers `display_offline` otherwise); asking again returns the
   * same code while it lives. The code ends when this display disconnects: after a
   * reconnect, ask again. Rejects with an {@link HttpError}.
   */
  async pairingCode(): Promise<PairingCode> {
    const token = this.#tokenProvider ? ((await this.#tokenProvider()) ?? undefined) : this.#token;
    return requestPairingCode(this.base, this.#uuid, token);
  }

  protected override path(): string {
    return `/ws/difficulty/unity/${encodeURIComponent(this.#uuid)}`;
  }

  protected override received(message: ServerMessage): void {
    if (message.type === 'draw') this.dispatch('draw', message.draw);
  }
}
