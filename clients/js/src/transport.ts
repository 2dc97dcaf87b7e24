/**
 * Where the WebSocket comes from: browsers and Node 22+ have a global `WebSocket`; on
 * Node 20 the `ws` package (an optional peer dependency) is loaded the first time a
 * connection needs it, so a browser bundle never contains or asks for it. An app may
 * also pass its own constructor.
 *
 * Only the parts every one of them shares are used (the `on…` handler properties,
 * `binaryType = 'arraybuffer'`, `protocol`, `send`, `close`), so the public types need
 * neither the DOM library nor `ws`'s types.
 *
 * @module
 */

import { PairlinkError } from './errors.js';

/** The parts of a WebSocket the SDK uses. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: the global one, `ws`'s, or an app's. */
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** `readyState` of an open socket. */
export const OPEN = 1;

let loading: Promise<WebSocketConstructor> | undefined;

/** The constructor to use: `given`, else the global one, else `ws` (loaded once). */
export function webSocketConstructor(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return Promise.resolve(given);
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return Promise.resolve(global);
  loading ??= loadWs();
  return loading;
}

async function loadWs(): Promise<WebSocketConstructor> {
  // A specifier in a variable, so that bundlers leave it alone for browser builds.
  const name = 'ws';
  try {
    const module = (await import(name)) as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor };
    const found = module.WebSocket ?? module.default;
    if (typeof found === 'function') return found;
  } catch (cause) {
    loading = undefined;
    throw new PairlinkError(
      'no_websocket',
      'this runtime has no global WebSocket: install the ws package (npm install ws) or pass WebSocket in the options',
      { cause },
    );
  }
  loading = undefined;
  throw new PairlinkError('no_websocket', 'the ws package does not export a WebSocket constructor');
}
