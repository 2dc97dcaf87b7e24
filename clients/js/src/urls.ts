/**
 * The server's address as the app gives it (`ws://HOST:8080`, `wss://play.example.com`,
 * optionally with a path prefix behind a proxy; `http(s):` is accepted too) and the
 * WebSocket and HTTP URLs made from it.
 *
 * @module
 */

/** Checks and normalises the app's `url`: a `ws:` or `wss:` base without query or fragment. */
export function serverBase(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new TypeError(`pairlink: '${url}' is not a URL (expected the server's ws: or wss: address)`);
  }
  if (base.protocol === 'http:') base.protocol = 'ws:';
  else if (base.protocol === 'https:') base.protocol = 'wss:';
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:') {
    throw new TypeError(`pairlink: '${url}' is not a ws:, wss:, http: or https: URL`);
  }
  base.search = '';
  base.hash = '';
  return base;
}

/** The WebSocket URL of `path` (already encoded), with `?token=` when there is a token. */
export function socketUrl(base: URL, path: string, token?: string): string {
  const url = new URL(base.href);
  url.pathname = prefix(base) + path;
  if (token) url.searchParams.set('token', token);
  return url.href;
}

/** The HTTP URL of `path` on the same server: `ws:` becomes `http:`, `wss:` `https:`. */
export function httpUrl(base: URL, path: string): string {
  const url = new URL(base.href);
  url.protocol = base.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = prefix(base) + path;
  return url.href;
}

/** The base's path without its trailing slashes: `''` at the root, `/pairlink` behind a proxy. */
function prefix(base: URL): string {
  return base.pathname.replace(/\/+$/, '');
}
