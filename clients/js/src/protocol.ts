/**
 * Protocol v2 on the wire (docs/protocol.md, "Protocol v2"): the subprotocol name, the
 * messages the server sends, parsed once into typed values, and what each close code
 * means for reconnecting. Nothing here touches a socket.
 *
 * @module
 */

/** The WebSocket subprotocol that selects v2. */
export const SUBPROTOCOL = 'pairlink.v2';

/** Any JSON value: what relay data may be. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A request id: the SDK assigns integers. */
export type RequestId = string | number;

/** The two roles of a pair. */
export type Role = 'display' | 'controller';

/** The first message of every v2 connection: who this is and the server's limits. */
export interface Welcome {
  role: Role;
  /** The pair's UUID, canonical lowercase (how a controller that joined with a code learns it). */
  uuid: string;
  /** Whether the other role is connected right now. */
  peer: boolean;
  /** The server closes a connection it heard nothing from for this long (4002). */
  idleTimeoutMs: number;
  /** The largest message the server accepts; larger ones close the connection (1009). */
  maxMessageBytes: number;
  /** Messages per second and burst when the server limits them, else `null`. */
  rateLimit: { perSecond: number; burst: number } | null;
  /** How long the server holds a draw for an absent display, or `null` when it does not. */
  holdMs: number | null;
}

/** Quizzes and an action drawn for the display. */
export interface Draw {
  quizIds: number[];
  actionId: number;
  /** The difficulty the controller asked for. */
  difficulty: number;
  /** Whether the draw waited for this display (held delivery). */
  held: boolean;
  /** For a held draw: when the server received the controller's difficulty. */
  sentAt: Date | null;
}

/** Relay data from the other side: a JSON value, or the bytes of a binary frame. */
export type Relay = { binary: false; data: JsonValue } | { binary: true; data: Uint8Array };

/** The other role of the pair connected (again) or went. */
export interface Presence {
  role: Role;
  connected: boolean;
}

/** A server message, parsed. Types this SDK does not know are `unknown` and ignored. */
export type ServerMessage =
  | { type: 'welcome'; welcome: Welcome }
  | { type: 'draw'; draw: Draw }
  | { type: 'ack'; id: RequestId | undefined; status: 'received' | 'queued' }
  | { type: 'error'; id: RequestId | undefined; code: string; message: string; retryAfter: number | undefined }
  | { type: 'pong'; id: RequestId | undefined }
  | { type: 'peer'; presence: Presence }
  | { type: 'relay'; data: JsonValue }
  | { type: 'unknown' };

type Fields = Record<string, unknown>;

const isRole = (value: unknown): value is Role => value === 'display' || value === 'controller';
const isId = (value: unknown): value is RequestId =>
  typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
const numberOr = <T>(value: unknown, fallback: T): number | T => (typeof value === 'number' ? value : fallback);

/** Parses one text frame; `null` when it is not a v2 message at all (not JSON, no `type`). */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const message = value as Fields;
  if (typeof message.type !== 'string') return null;
  const id = isId(message.id) ? message.id : undefined;
  switch (message.type) {
    case 'welcome':
      return parseWelcome(message);
    case 'draw':
      return parseDraw(message);
    case 'ack':
      if (message.status !== 'received' && message.status !== 'queued') return null;
      return { type: 'ack', id, status: message.status };
    case 'error':
      return {
        type: 'error',
        id,
        code: typeof message.code === 'string' ? message.code : 'error',
        message: typeof message.message === 'string' ? message.message : '',
        retryAfter: typeof message.retry_after === 'number' ? message.retry_after : undefined,
      };
    case 'pong':
      return { type: 'pong', id };
    case 'peer':
      if (!isRole(message.role) || typeof message.connected !== 'boolean') return null;
      return { type: 'peer', presence: { role: message.role, connected: message.connected } };
    case 'relay':
      return 'data' in message ? { type: 'relay', data: message.data as JsonValue } : null;
    default:
      return { type: 'unknown' };
  }
}

function parseWelcome(message: Fields): ServerMessage | null {
  if (!isRole(message.role) || typeof message.uuid !== 'string') return null;
  const limit = message.rate_limit as Fields | null | undefined;
  return {
    type: 'welcome',
    welcome: {
      role: message.role,
      uuid: message.uuid,
      peer: message.peer === true,
      idleTimeoutMs: numberOr(message.idle_timeout_ms, 60_000),
      maxMessageBytes: numberOr(message.max_message_bytes, 65_536),
      rateLimit:
        limit && typeof limit.per_second === 'number'
          ? { perSecond: limit.per_second, burst: numberOr(limit.burst, limit.per_second) }
          : null,
      holdMs: numberOr(message.hold_ms, null),
    },
  };
}

function parseDraw(message: Fields): ServerMessage | null {
  const quizIds = message.quiz_id;
  if (!Array.isArray(quizIds) || !quizIds.every((id) => typeof id === 'number')) return null;
  if (typeof message.action_id !== 'number') return null;
  const sentAt = typeof message.sent_at === 'string' ? new Date(message.sent_at) : null;
  return {
    type: 'draw',
    draw: {
      quizIds,
      actionId: message.action_id,
      difficulty: numberOr(message.difficulty, Number.NaN),
      held: message.held === true,
      sentAt: sentAt && !Number.isNaN(sentAt.getTime()) ? sentAt : null,
    },
  };
}

/**
 * What a close means for reconnecting (docs/protocol.md, "Close codes"):
 * - `final`: give up and report: another device took this role, the URL or origin is
 *   refused, the code is unknown, or the message was one the server will always refuse;
 * - `token`: 4401, retry only with a fresh token;
 * - `retry`: everything else (network loss, restarts, idle timeout, a controller whose
 *   display is not there yet, a full server), with backoff.
 */
export function closeVerdict(code: number, reason: string): 'final' | 'token' | 'retry' {
  switch (code) {
    case 4401:
      return 'token';
    case 4400:
      return reason === 'display_offline' ? 'retry' : 'final';
    case 4001: // replaced: reconnecting would take the role back, a tug of war
    case 4403: // origin_not_allowed
    case 4404: // unknown_code
    case 1002: // protocol error
    case 1003: // unsupported data
    case 1007: // invalid UTF-8
    case 1008: // policy violation
    case 1009: // message too big: reconnecting would not make it smaller
    case 1010: // extension negotiation failed
      return 'final';
    default:
      return 'retry';
  }
}
