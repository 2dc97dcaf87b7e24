// Small DOM helpers shared by the console's panels. Everything a server or another
// person sent is put on the page as text (textContent), never as HTML.

/** Makes an element: `el('li', { className: 'x', text: 'hi', attrs: { title: 't' } }, child…)`. */
export function el(tag, { className, text, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** A WebSocket URL on the server that served the page: wss: when the page came over https:. */
export function wsUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

/** The time of day, for log lines. */
export function clock(date = new Date()) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** The first 8 characters of a server-given id: enough to tell people apart on screen. */
export function shortId(id) {
  return typeof id === 'string' ? id.slice(0, 8) : String(id);
}

/** A JSON value as one line of text; strings as they are. */
export function show(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parses a message's text as JSON; `undefined` when it is not JSON. */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A browser cannot read why a WebSocket handshake was refused. pairlink checks a
 * WebSocket URL before the upgrade, so a plain GET of the same URL answers with the
 * same JSON error (`{"status":"error","code":…,"message":…}`) when the URL is refused.
 */
export async function explainRefusal(path) {
  try {
    const response = await fetch(path, { cache: 'no-store' });
    const body = await response.json();
    if (body && body.code && body.code !== 'not_websocket') return body;
  } catch {
    // The server is unreachable, or the answer is not JSON: nothing more to say.
  }
  return null;
}

/** Why a WebSocket closed, in words. */
export function describeClose(event) {
  const reason = event.reason ? ` ${event.reason}` : '';
  return `closed (${event.code}${reason})`;
}

/** A connection state badge: `state` picks its colour (off, busy, on, error). */
export function setBadge(badge, state, text) {
  badge.dataset.state = state;
  badge.textContent = text;
}

/**
 * A list of log entries, newest last, kept to `limit` entries, scrolled to the end as
 * entries arrive (unless the reader scrolled up to read).
 */
export class Log {
  constructor(list, limit = 200) {
    this.list = list;
    this.limit = limit;
  }

  /**
   * Adds an entry. `kind` is its style (info, in, out, ok, error); `label` a short word
   * before it; `body` text or nodes. Returns the entry, for filling in later.
   */
  add(kind, label, ...body) {
    const atEnd = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 8;
    const entry = el('li', { className: `entry entry-${kind}` },
      el('span', { className: 'entry-time', text: clock() }),
      el('span', { className: 'entry-label', text: label }),
      el('span', { className: 'entry-body' }, ...body.map((part) => (typeof part === 'string' ? document.createTextNode(part) : part))));
    this.list.append(entry);
    while (this.list.children.length > this.limit) this.list.firstElementChild.remove();
    if (atEnd) this.list.scrollTop = this.list.scrollHeight;
    return entry;
  }

  clear() {
    this.list.replaceChildren();
  }
}

/** The element with this id; fails loudly when the page and the script disagree. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}
