/**
 * A display's pairing code over HTTP: `POST /api/pairings/{uuid}/code` for the code,
 * then `GET /api/pairings/code/{code}/qr.png` for its QR code, on the server of the
 * display's WebSocket URL (`ws:` → `http:`, `wss:` → `https:`), with the display's token
 * as `Authorization: Bearer` when it has one.
 *
 * @module
 */

import { HttpError } from './errors.js';
import { httpUrl } from './urls.js';

/** A code a phone joins with, and what to show for it. */
export interface PairingCode {
  /** Six characters, e.g. `K7M2QX`. */
  code: string;
  /** The pair's UUID. */
  uuid: string;
  /** The WebSocket URL a controller joins at: `ws(s)://HOST/ws/join/{CODE}`. */
  joinUrl: string;
  /**
   * The phone page pairlink serves for the code: `http(s)://HOST/join/{CODE}`; opened in
   * a phone's browser it is a controller, with nothing to install.
   */
  pageUrl: string;
  /** When the code ends (it also ends when the display disconnects). */
  expiresAt: Date;
  /** The server's QR code of the code, as PNG bytes (`Texture2D.LoadImage`, `new Blob([qrPng])`). */
  qrPng: Uint8Array;
}

/** Asks the server for `uuid`'s pairing code and its QR code. */
export async function requestPairingCode(base: URL, uuid: string, token: string | undefined): Promise<PairingCode> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const answer = await call(httpUrl(base, `/api/pairings/${encodeURIComponent(uuid)}/code`), {
    method: 'POST',
    headers,
  });
  const body = (await answer.json().catch(() => null)) as Record<string, unknown> | null;
  if (
    !body ||
    typeof body.code !== 'string' ||
    typeof body.join_url !== 'string' ||
    typeof body.expires_at !== 'string'
  ) {
    throw new HttpError('unexpected_answer', 'the pairing code answer is not what pairlink sends', answer.status);
  }
  const code = body.code;
  // The QR code of the phone page: a camera opens it, and an app reads the code from it.
  const qr = new URL(httpUrl(base, `/api/pairings/code/${encodeURIComponent(code)}/qr.png`));
  qr.searchParams.set('target', 'page');
  const png = await call(qr.href, { headers });
  return {
    code,
    uuid: typeof body.uuid === 'string' ? body.uuid : uuid,
    joinUrl: body.join_url,
    pageUrl: typeof body.page_url === 'string' ? body.page_url : httpUrl(base, `/join/${encodeURIComponent(code)}`),
    expiresAt: new Date(body.expires_at),
    qrPng: new Uint8Array(await png.arrayBuffer()),
  };
}

/** `fetch`, with failures as {@link HttpError}s carrying pairlink's error code. */
async function call(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (cause) {
    throw new HttpError('network_error', `no answer from ${url}`, 0, { cause });
  }
  if (response.ok) return response;
  const body = (await response.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  const code = typeof body?.code === 'string' ? body.code : `http_${response.status}`;
  const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status} from ${url}`;
  throw new HttpError(code, message, response.status);
}
