/**
 * What a Display or Controller is given and what it tells: its options, the states it
 * goes through, why a connection ended, and the events both emit.
 *
 * @module
 */

import type { BackoffOptions } from './backoff.js';
import type { PairlinkError } from './errors.js';
import type { Presence, Relay, Welcome } from './protocol.js';
import type { WebSocketConstructor } from './transport.js';

/** Why a connection ended. */
export interface CloseReason {
  /** The WebSocket close code: the server's, 1006 when the connection was lost without one, 1000 when the app closed it. */
  code: number;
  /**
   * In a word: the server's close reason (`replaced`, `display_offline`, `going away`,
   * `idle timeout`, …), or the SDK's: `network_lost`, `ping_timeout`, `connect_timeout`,
   * `token_provider_failed`, `closed` (the app called `close()`), `aborted` (its signal).
   */
  reason: string;
  /** The server's error for a refusal ({@link RefusedError}), or what went wrong on this side. */
  error?: PairlinkError;
}

/** Where a Display or Controller is. `state` events carry each new one. */
export type ConnectionState =
  | { type: 'connecting' }
  | { type: 'open'; welcome: Welcome }
  | { type: 'reconnecting'; attempt: number; delay: number; reason: CloseReason }
  | { type: 'closed'; reason: CloseReason };

/** A token, or where to get one: called before every connect (and so after every 4401). */
export type TokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

/** Options both objects take. */
export interface ConnectionOptions {
  /** The server: `ws://HOST:8080`, `wss://play.example.com` (`http(s):` works too). */
  url: string;
  /** A connection token (`--auth-secret`), sent as `?token=`. */
  token?: string;
  /** Called before every connect for a fresh token; return `null` when there is none. */
  tokenProvider?: TokenProvider;
  /** Milliseconds between app-level pings (default 10 000; never more than a third of the server's idle timeout). */
  pingInterval?: number;
  /** Milliseconds a connection may take from the first byte to the welcome (default 10 000). */
  connectTimeout?: number;
  /** Reconnect delays (default: 0.5 s base, 30 s cap, full jitter). */
  backoff?: BackoffOptions;
  /** Aborting it closes the connection for good, like `close()`. */
  signal?: AbortSignal;
  /** A WebSocket constructor to use instead of the global one (or `ws` on Node 20). */
  WebSocket?: WebSocketConstructor;
}

/** The events both objects emit. */
export interface ConnectionEvents {
  state: ConnectionState;
  relay: Relay;
  peer: Presence;
  error: PairlinkError;
}
