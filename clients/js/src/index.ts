/**
 * `@pairlink/client`: pairlink's display and controller for browsers and Node, speaking
 * protocol v2 (docs/protocol.md). Start with {@link Display} and {@link Controller}.
 *
 * @module
 */

export type { BackoffOptions } from './backoff.js';
export { Backoff } from './backoff.js';
export type { ControllerEvents, ControllerOptions, DifficultyStatus } from './controller.js';
export { Controller } from './controller.js';
export type { DisplayEvents, DisplayOptions } from './display.js';
export { Display } from './display.js';
export {
  ConnectionLostError,
  HandlerError,
  HttpError,
  NotConnectedError,
  PairlinkError,
  RefusedError,
  ServerError,
} from './errors.js';
export type { Handler } from './events.js';
export type {
  CloseReason,
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  TokenProvider,
} from './options.js';
export type { PairingCode } from './pairing-code.js';
export type { Draw, JsonValue, Presence, Relay, Role, Welcome } from './protocol.js';
export { SUBPROTOCOL } from './protocol.js';
export type { WebSocketConstructor, WebSocketLike } from './transport.js';
