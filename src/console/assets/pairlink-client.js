// @pairlink/client, protocol v2: the same code as clients/js/src, bundled by
// `npm run build:console` in clients/js. Do not edit: change clients/js/src and rebuild.

// src/backoff.ts
var Backoff = class {
  #base;
  #cap;
  #random;
  #attempt = 0;
  constructor({ baseDelay = 500, maxDelay = 3e4, random = Math.random } = {}) {
    this.#base = Math.max(0, baseDelay);
    this.#cap = Math.max(this.#base, maxDelay);
    this.#random = random;
  }
  /** Attempts made since the last {@link reset}. */
  get attempt() {
    return this.#attempt;
  }
  /** Counts one more attempt and returns its delay in milliseconds. */
  next() {
    this.#attempt += 1;
    const bound = Math.min(this.#cap, this.#base * 2 ** (this.#attempt - 1));
    return { attempt: this.#attempt, delay: Math.floor(this.#random() * bound) };
  }
  /** Starts counting again: after a connection that stayed open long enough. */
  reset() {
    this.#attempt = 0;
  }
};

// src/errors.ts
var PairlinkError = class extends Error {
  /** Machine-readable: `no_content`, `display_offline`, `connection_lost`, … */
  code;
  constructor(code, message, options) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
};
var ServerError = class extends PairlinkError {
  /** The request id the error answers, if it answers one. */
  id;
  /** For `expired`: the difficulty of the held draw that expired, when the SDK still knew it. */
  difficulty;
  constructor(code, message, id, difficulty) {
    super(code, message);
    this.id = id;
    this.difficulty = difficulty;
  }
};
var ConnectionLostError = class extends PairlinkError {
  constructor(message = "the connection ended before the server answered; the request was not sent again") {
    super("connection_lost", message);
  }
};
var NotConnectedError = class extends PairlinkError {
  constructor(message = "not connected: nothing was sent") {
    super("not_connected", message);
  }
};
var RefusedError = class extends PairlinkError {
  /** The WebSocket close code. */
  closeCode;
  /** For `too_many_guesses`: seconds to wait before trying again. */
  retryAfter;
  constructor(code, message, closeCode, retryAfter) {
    super(code, message);
    this.closeCode = closeCode;
    this.retryAfter = retryAfter;
  }
};
var HttpError = class extends PairlinkError {
  /** The HTTP status, or 0 when no answer came. */
  status;
  constructor(code, message, status, options) {
    super(code, message, options);
    this.status = status;
  }
};
var HandlerError = class extends PairlinkError {
  /** The event whose handler threw. */
  event;
  constructor(event, cause) {
    super("handler_failed", `a '${event}' handler threw: ${String(cause)}`, { cause });
    this.event = event;
  }
};

// src/events.ts
var Emitter = class {
  #handlers = /* @__PURE__ */ new Map();
  /** Adds `handler` for `name`; returns a function that removes it. */
  on(name, handler) {
    let set = this.#handlers.get(name);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.#handlers.set(name, set);
    }
    set.add(handler);
    return () => this.off(name, handler);
  }
  /** Removes `handler` from `name`; nothing happens if it was not there. */
  off(name, handler) {
    this.#handlers.get(name)?.delete(handler);
  }
  /** Adds `handler` for the next `name` event only; returns a function that removes it. */
  once(name, handler) {
    const remove = this.on(name, (event) => {
      remove();
      handler(event);
    });
    return remove;
  }
  /** Calls every handler of `name` in the order they were added. */
  emit(name, event) {
    const set = this.#handlers.get(name);
    if (!set || set.size === 0) return;
    for (const handler of [...set]) {
      try {
        handler(event);
      } catch (thrown) {
        this.#reportHandlerError(name, thrown);
      }
    }
  }
  #reportHandlerError(name, thrown) {
    const errorHandlers = this.#handlers.get("error");
    if (name === "error" || !errorHandlers || errorHandlers.size === 0) {
      console.error(`pairlink: a '${String(name)}' handler threw`, thrown);
      return;
    }
    this.emit("error", new HandlerError(String(name), thrown));
  }
};

// src/liveness.ts
var Liveness = class {
  #timer;
  #unanswered = false;
  /**
   * Pings every `interval` milliseconds with `ping`; calls `dead` once if a ping is still
   * unanswered when the next one is due, and stops.
   */
  start(interval, ping, dead) {
    this.stop();
    this.#unanswered = false;
    this.#timer = setInterval(() => {
      if (this.#unanswered) {
        this.stop();
        dead();
        return;
      }
      this.#unanswered = true;
      ping();
    }, interval);
  }
  /** Something arrived from the server: it is there. */
  heard() {
    this.#unanswered = false;
  }
  stop() {
    if (this.#timer !== void 0) clearInterval(this.#timer);
    this.#timer = void 0;
  }
};

// src/protocol.ts
var SUBPROTOCOL = "pairlink.v2";
var isRole = (value) => value === "display" || value === "controller";
var isId = (value) => typeof value === "string" || typeof value === "number" && Number.isInteger(value);
var numberOr = (value, fallback) => typeof value === "number" ? value : fallback;
function parseServerMessage(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const message = value;
  if (typeof message.type !== "string") return null;
  const id = isId(message.id) ? message.id : void 0;
  switch (message.type) {
    case "welcome":
      return parseWelcome(message);
    case "draw":
      return parseDraw(message);
    case "ack":
      if (message.status !== "received" && message.status !== "queued") return null;
      return { type: "ack", id, status: message.status };
    case "error":
      return {
        type: "error",
        id,
        code: typeof message.code === "string" ? message.code : "error",
        message: typeof message.message === "string" ? message.message : "",
        retryAfter: typeof message.retry_after === "number" ? message.retry_after : void 0
      };
    case "pong":
      return { type: "pong", id };
    case "peer":
      if (!isRole(message.role) || typeof message.connected !== "boolean") return null;
      return { type: "peer", presence: { role: message.role, connected: message.connected } };
    case "relay":
      return "data" in message ? { type: "relay", data: message.data } : null;
    default:
      return { type: "unknown" };
  }
}
function parseWelcome(message) {
  if (!isRole(message.role) || typeof message.uuid !== "string") return null;
  const limit = message.rate_limit;
  return {
    type: "welcome",
    welcome: {
      role: message.role,
      uuid: message.uuid,
      peer: message.peer === true,
      idleTimeoutMs: numberOr(message.idle_timeout_ms, 6e4),
      maxMessageBytes: numberOr(message.max_message_bytes, 65536),
      rateLimit: limit && typeof limit.per_second === "number" ? { perSecond: limit.per_second, burst: numberOr(limit.burst, limit.per_second) } : null,
      holdMs: numberOr(message.hold_ms, null)
    }
  };
}
function parseDraw(message) {
  const quizIds = message.quiz_id;
  if (!Array.isArray(quizIds) || !quizIds.every((id) => typeof id === "number")) return null;
  if (typeof message.action_id !== "number") return null;
  const sentAt = typeof message.sent_at === "string" ? new Date(message.sent_at) : null;
  return {
    type: "draw",
    draw: {
      quizIds,
      actionId: message.action_id,
      difficulty: numberOr(message.difficulty, Number.NaN),
      held: message.held === true,
      sentAt: sentAt && !Number.isNaN(sentAt.getTime()) ? sentAt : null
    }
  };
}
function closeVerdict(code, reason) {
  switch (code) {
    case 4401:
      return "token";
    case 4400:
      return reason === "display_offline" ? "retry" : "final";
    case 4001:
    // replaced: reconnecting would take the role back, a tug of war
    case 4403:
    // origin_not_allowed
    case 4404:
    // unknown_code
    case 1002:
    // protocol error
    case 1003:
    // unsupported data
    case 1007:
    // invalid UTF-8
    case 1008:
    // policy violation
    case 1009:
    // message too big: reconnecting would not make it smaller
    case 1010:
      return "final";
    default:
      return "retry";
  }
}

// src/requests.ts
var Requests = class {
  #pending = /* @__PURE__ */ new Map();
  #next = 1;
  /** A fresh id. */
  nextId() {
    const id = this.#next;
    this.#next += 1;
    return id;
  }
  /** Waits for the answer to request `id`. */
  add(id, pending) {
    this.#pending.set(id, pending);
  }
  /** Removes and returns the request `id` answers, if it is still waiting. */
  take(id) {
    if (id === void 0) return void 0;
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }
  /** Fails every waiting request (their connection ended): none is sent again. */
  failAll(error) {
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of waiting) pending.reject(error());
  }
};

// src/transport.ts
var OPEN = 1;
var loading;
function webSocketConstructor(given) {
  if (given) return Promise.resolve(given);
  const global = globalThis.WebSocket;
  if (typeof global === "function") return Promise.resolve(global);
  loading ??= loadWs();
  return loading;
}
async function loadWs() {
  const name = "ws";
  try {
    const module = await import(name);
    const found = module.WebSocket ?? module.default;
    if (typeof found === "function") return found;
  } catch (cause) {
    loading = void 0;
    throw new PairlinkError(
      "no_websocket",
      "this runtime has no global WebSocket: install the ws package (npm install ws) or pass WebSocket in the options",
      { cause }
    );
  }
  loading = void 0;
  throw new PairlinkError("no_websocket", "the ws package does not export a WebSocket constructor");
}

// src/urls.ts
function serverBase(url) {
  let base;
  try {
    base = new URL(url);
  } catch {
    throw new TypeError(`pairlink: '${url}' is not a URL (expected the server's ws: or wss: address)`);
  }
  if (base.protocol === "http:") base.protocol = "ws:";
  else if (base.protocol === "https:") base.protocol = "wss:";
  if (base.protocol !== "ws:" && base.protocol !== "wss:") {
    throw new TypeError(`pairlink: '${url}' is not a ws:, wss:, http: or https: URL`);
  }
  base.search = "";
  base.hash = "";
  return base;
}
function socketUrl(base, path, token) {
  const url = new URL(base.href);
  url.pathname = prefix(base) + path;
  if (token) url.searchParams.set("token", token);
  return url.href;
}
function httpUrl(base, path) {
  const url = new URL(base.href);
  url.protocol = base.protocol === "wss:" ? "https:" : "http:";
  url.pathname = prefix(base) + path;
  return url.href;
}
function prefix(base) {
  return base.pathname.replace(/\/+$/, "");
}

// src/connection.ts
var STABLE_MS = 3e4;
var Connection = class extends Emitter {
  #options;
  #base;
  #backoff;
  #liveness = new Liveness();
  #requests = new Requests();
  #state = { type: "connecting" };
  #socket = null;
  /** Bumped whenever an attempt is abandoned, so a late callback of an old one does nothing. */
  #attempt = 0;
  /** The wait before the next attempt. */
  #retryTimer;
  /** The limit on an attempt, from the socket's creation to the welcome. */
  #connectTimer;
  #openedAt;
  #welcome = null;
  #peer = false;
  /** The error a refused connection received just before its close. */
  #refusal;
  /** What the WebSocket implementation said went wrong, when it says anything. */
  #socketError;
  #token;
  /** Set by a 4401: the token that was refused, which must not be presented again. */
  #refusedToken;
  /** The reason of the last close, to end with when a 4401 brings no new token. */
  #lastReason;
  #onAbort = () => this.#end({ code: 1e3, reason: "aborted" });
  constructor(options) {
    super();
    this.#options = options;
    this.#base = serverBase(options.url);
    this.#backoff = new Backoff(options.backoff);
    this.#token = options.token;
  }
  /** Where it is now. It starts as `connecting`. */
  get state() {
    return this.#state;
  }
  /** The welcome of the current connection, or the last one; `null` before the first. */
  get welcome() {
    return this.#welcome;
  }
  /** Whether the other role is connected, as the server last said; `false` while this side is not open. */
  get peerConnected() {
    return this.#state.type === "open" && this.#peer;
  }
  /** The server's base URL, normalised to `ws:` or `wss:`. */
  get base() {
    return this.#base;
  }
  /**
   * Sends relay data to the other side: a JSON value as `{"type":"relay"}`, a
   * `Uint8Array` or `ArrayBuffer` as a binary frame. Returns `false`, sending nothing,
   * when the connection is not open. Relay data is never held or sent again: if the
   * other side is absent the server drops it and an `error` event says so.
   */
  relay(data) {
    const socket = this.#openSocket();
    if (!socket) return false;
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      this.#checkSize(data.byteLength);
      socket.send(data);
      return true;
    }
    if (data === void 0) throw new TypeError("pairlink: relay data must be a JSON value or bytes, not undefined");
    this.#sendText(socket, JSON.stringify({ type: "relay", data }));
    return true;
  }
  /** An app-level ping: resolves with the round trip in milliseconds. */
  async ping() {
    const started = Date.now();
    await this.request({ type: "ping" });
    return Date.now() - started;
  }
  /** While waiting to reconnect: tries now, and starts the backoff over (say, when a page becomes visible again). */
  retryNow() {
    if (this.#state.type !== "reconnecting" || this.#retryTimer === void 0) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = void 0;
    this.#backoff.reset();
    void this.#connect();
  }
  /** Closes for good: in-flight requests fail with `connection_lost`, and nothing reconnects. */
  close() {
    this.#end({ code: 1e3, reason: "closed" });
  }
  /** Starts the first connection; subclasses call it once their own fields are set. */
  start() {
    const signal = this.#options.signal;
    if (signal?.aborted) {
      this.#onAbort();
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    void this.#connect();
  }
  /** Learns from a welcome (a controller that joined with a code learns its UUID). */
  welcomed(_welcome) {
  }
  /** What to do after a close; a controller overrides it for codes that ended. */
  verdict(code, reason) {
    return closeVerdict(code, reason);
  }
  /** The error for a server `error` no request was waiting for. */
  unsolicited(message) {
    return new ServerError(message.code, message.message, message.id);
  }
  /** Sends `fields` with a fresh id and resolves with the answer (`ack`, `pong`) or rejects with its error. */
  request(fields) {
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
  dispatch(name, event) {
    this.emit(name, event);
  }
  #openSocket() {
    const socket = this.#socket;
    return this.#state.type === "open" && socket && socket.readyState === OPEN ? socket : null;
  }
  #sendText(socket, text) {
    if (this.#welcome && text.length * 3 > this.#welcome.maxMessageBytes) {
      this.#checkSize(new TextEncoder().encode(text).byteLength);
    }
    socket.send(text);
  }
  /** The server closes a connection that sends more than it accepts (1009, final): refuse it here instead. */
  #checkSize(bytes) {
    const limit = this.#welcome?.maxMessageBytes;
    if (limit !== void 0 && bytes > limit) {
      throw new PairlinkError("message_too_big", `${bytes} bytes is more than the server accepts (${limit})`);
    }
  }
  #setState(state) {
    this.#state = state;
    this.emit("state", state);
  }
  /** A method, so that TypeScript does not narrow the state across an `await`. */
  #closed() {
    return this.#state.type === "closed";
  }
  async #connect() {
    if (this.#closed()) return;
    const attempt = ++this.#attempt;
    let WebSocket;
    let token;
    try {
      WebSocket = await webSocketConstructor(this.#options.WebSocket);
    } catch (error) {
      this.#end({ code: 1006, reason: "no_websocket", error });
      return;
    }
    try {
      token = await this.#nextToken();
    } catch (error) {
      if (attempt !== this.#attempt) return;
      const failure = new PairlinkError("token_provider_failed", "the token provider failed", { cause: error });
      this.emit("error", failure);
      this.#retry({ code: 1006, reason: "token_provider_failed", error: failure });
      return;
    }
    if (attempt !== this.#attempt || this.#closed()) return;
    if (this.#refusedToken && (token === void 0 || token === this.#refusedToken.token)) {
      this.#end(this.#lastReason ?? { code: 4401, reason: "token_required" });
      return;
    }
    this.#refusedToken = void 0;
    this.#refusal = void 0;
    this.#socketError = void 0;
    this.#token = token;
    const socket = new WebSocket(socketUrl(this.#base, this.path(), token), [SUBPROTOCOL]);
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    this.#connectTimer = setTimeout(() => {
      this.#drop(socket, { code: 1006, reason: "connect_timeout" });
    }, this.#options.connectTimeout ?? 1e4);
    socket.onerror = (event) => {
      const message = event?.message;
      if (typeof message === "string" && message && socket === this.#socket) this.#socketError = message;
    };
    socket.onopen = () => {
      if (socket.protocol !== SUBPROTOCOL) {
        const error = new PairlinkError("v2_unsupported", `the server did not accept ${SUBPROTOCOL}: it is too old`);
        this.#drop(socket, { code: 1006, reason: "v2_unsupported", error }, "final");
      }
    };
    socket.onmessage = ({ data }) => this.#frame(socket, data);
    socket.onclose = ({ code, reason }) => this.#socketClosed(socket, code, reason);
  }
  async #nextToken() {
    const provider = this.#options.tokenProvider;
    if (!provider) return this.#refusedToken ? void 0 : this.#token;
    return await provider() ?? void 0;
  }
  #frame(socket, data) {
    if (socket !== this.#socket) return;
    this.#liveness.heard();
    if (data instanceof ArrayBuffer) {
      this.emit("relay", { binary: true, data: new Uint8Array(data) });
      return;
    }
    if (ArrayBuffer.isView(data)) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.emit("relay", { binary: true, data: bytes });
      return;
    }
    const message = typeof data === "string" ? parseServerMessage(data) : null;
    if (!message) {
      const error = new PairlinkError(
        "unexpected_message",
        `the server sent something that is not a v2 message: ${String(data).slice(0, 100)}`
      );
      this.emit("error", error);
      return;
    }
    if (this.#state.type !== "open") {
      this.#beforeWelcome(socket, message);
      return;
    }
    this.#message(message);
  }
  #beforeWelcome(socket, message) {
    if (message.type === "error") {
      this.#refusal = { code: message.code, message: message.message, retryAfter: message.retryAfter };
      return;
    }
    if (message.type !== "welcome") return;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = void 0;
    const welcome = message.welcome;
    this.#welcome = welcome;
    this.#peer = welcome.peer;
    this.#openedAt = Date.now();
    this.welcomed(welcome);
    const interval = Math.max(10, Math.min(this.#options.pingInterval ?? 1e4, welcome.idleTimeoutMs / 3));
    this.#liveness.start(
      interval,
      () => {
        if (socket.readyState === OPEN) socket.send(JSON.stringify({ type: "ping", id: this.#requests.nextId() }));
      },
      () => {
        const error = new PairlinkError("ping_timeout", `no answer from the server within ${2 * interval} ms`);
        this.#drop(socket, { code: 1006, reason: "ping_timeout", error });
      }
    );
    this.#setState({ type: "open", welcome });
    this.emit("peer", {
      role: welcome.role === "display" ? "controller" : "display",
      connected: welcome.peer
    });
  }
  #message(message) {
    switch (message.type) {
      case "ack":
      case "pong":
        this.#requests.take(message.id)?.resolve(message);
        return;
      case "error": {
        const pending = this.#requests.take(message.id);
        if (pending) pending.reject(new ServerError(message.code, message.message, message.id));
        else this.emit("error", this.unsolicited(message));
        return;
      }
      case "peer":
        this.#peer = message.presence.connected;
        this.emit("peer", message.presence);
        return;
      case "relay":
        this.emit("relay", { binary: false, data: message.data });
        return;
      case "welcome":
      case "unknown":
        return;
      default:
        this.received(message);
    }
  }
  #socketClosed(socket, code, reason) {
    if (socket !== this.#socket) return;
    const refusal = this.#refusal;
    const why = {
      code,
      reason: refusal?.code ?? (reason || (code === 1006 ? "network_lost" : String(code)))
    };
    if (refusal) {
      why.error = new RefusedError(refusal.code, refusal.message, code, refusal.retryAfter);
    } else if (code >= 4e3) {
      why.error = new RefusedError(why.reason, `the server closed the connection: ${code} ${reason}`, code);
    } else if (this.#socketError) {
      why.error = new PairlinkError(why.reason, this.#socketError);
    }
    this.#drop(socket, why, this.verdict(code, why.reason), (refusal?.retryAfter ?? 0) * 1e3);
  }
  /** This socket is done (closed by the server, or given up on here): clean up, then retry or end. */
  #drop(socket, why, verdict = "retry", minDelay = 0) {
    if (socket !== this.#socket) return;
    this.#detach();
    if (this.#openedAt !== void 0 && Date.now() - this.#openedAt >= STABLE_MS) this.#backoff.reset();
    this.#openedAt = void 0;
    this.#lastReason = why;
    if (verdict === "final") {
      this.#end(why);
    } else if (verdict === "token") {
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
  #detach() {
    const socket = this.#socket;
    this.#socket = null;
    this.#attempt += 1;
    this.#liveness.stop();
    clearTimeout(this.#connectTimer);
    this.#connectTimer = void 0;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = void 0;
    this.#requests.failAll(() => new ConnectionLostError());
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    try {
      socket.close(1e3);
    } catch {
    }
  }
  #retry(why, minDelay = 0) {
    const { attempt, delay: jittered } = this.#backoff.next();
    const delay = Math.max(jittered, minDelay);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = void 0;
      void this.#connect();
    }, delay);
    this.#setState({ type: "reconnecting", attempt, delay, reason: why });
  }
  #end(why) {
    if (this.#state.type === "closed") return;
    this.#detach();
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#setState({ type: "closed", reason: why });
  }
};

// src/controller.ts
var EXPIRY_MARGIN_MS = 6e4;
var Controller = class extends Connection {
  #code;
  #uuid;
  #codeEnded = false;
  /** Queued draws by request id, so that a later `expired` can say which difficulty it was. */
  #queued = /* @__PURE__ */ new Map();
  constructor(options) {
    super(options);
    if (typeof options.code === "string") this.#code = options.code.trim().toUpperCase();
    else if (typeof options.uuid === "string") this.#uuid = options.uuid;
    else throw new TypeError("pairlink: a Controller needs a uuid or a code");
    this.start();
  }
  /** The pair's UUID: as given, or learned from the welcome after joining with a code. */
  get uuid() {
    return this.#uuid;
  }
  /** The pairing code it joined with, in capitals; `undefined` for a controller by UUID. */
  get code() {
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
  async difficulty(difficulty) {
    if (!Number.isSafeInteger(difficulty)) {
      throw new PairlinkError("invalid_difficulty", `a difficulty is an integer, not ${String(difficulty)}`);
    }
    const { answer, id } = await this.request({ type: "difficulty", difficulty });
    if (answer.type !== "ack")
      throw new PairlinkError("unexpected_message", `the server answered a difficulty with ${answer.type}`);
    if (answer.status === "queued") this.#remember(id, difficulty);
    return answer.status;
  }
  path() {
    if (this.#code !== void 0 && !(this.#codeEnded && this.#uuid)) {
      return `/ws/join/${encodeURIComponent(this.#code)}`;
    }
    return `/ws/difficulty/android/${encodeURIComponent(this.#uuid ?? "")}`;
  }
  received(_message) {
  }
  welcomed(welcome) {
    this.#uuid = welcome.uuid;
  }
  verdict(code, reason) {
    if (code === 4404 && this.#code !== void 0 && this.#uuid !== void 0) {
      this.#codeEnded = true;
      return "retry";
    }
    return closeVerdict(code, reason);
  }
  unsolicited(message) {
    const queued = message.id === void 0 ? void 0 : this.#queued.get(message.id);
    if (message.code === "expired" && message.id !== void 0) this.#queued.delete(message.id);
    return new ServerError(message.code, message.message, message.id, queued?.difficulty);
  }
  #remember(id, difficulty) {
    const now = Date.now();
    const keep = (this.welcome?.holdMs ?? 0) + EXPIRY_MARGIN_MS;
    for (const [key, entry] of this.#queued) {
      if (now - entry.at > keep) this.#queued.delete(key);
    }
    this.#queued.set(id, { difficulty, at: now });
  }
};

// src/pairing-code.ts
async function requestPairingCode(base, uuid, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const answer = await call(httpUrl(base, `/api/pairings/${encodeURIComponent(uuid)}/code`), {
    method: "POST",
    headers
  });
  const body = await answer.json().catch(() => null);
  if (!body || typeof body.code !== "string" || typeof body.join_url !== "string" || typeof body.expires_at !== "string") {
    throw new HttpError("unexpected_answer", "the pairing code answer is not what pairlink sends", answer.status);
  }
  const code = body.code;
  const qr = new URL(httpUrl(base, `/api/pairings/code/${encodeURIComponent(code)}/qr.png`));
  qr.searchParams.set("target", "page");
  const png = await call(qr.href, { headers });
  return {
    code,
    uuid: typeof body.uuid === "string" ? body.uuid : uuid,
    joinUrl: body.join_url,
    pageUrl: typeof body.page_url === "string" ? body.page_url : httpUrl(base, `/join/${encodeURIComponent(code)}`),
    expiresAt: new Date(body.expires_at),
    qrPng: new Uint8Array(await png.arrayBuffer())
  };
}
async function call(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (cause) {
    throw new HttpError("network_error", `no answer from ${url}`, 0, { cause });
  }
  if (response.ok) return response;
  const body = await response.json().catch(() => null);
  const code = typeof body?.code === "string" ? body.code : `http_${response.status}`;
  const message = typeof body?.message === "string" ? body.message : `HTTP ${response.status} from ${url}`;
  throw new HttpError(code, message, response.status);
}

// src/display.ts
var Display = class extends Connection {
  #uuid;
  #token;
  #tokenProvider;
  constructor(options) {
    super(options);
    this.#uuid = options.uuid;
    this.#token = options.token;
    this.#tokenProvider = options.tokenProvider;
    this.start();
  }
  /** The pair's UUID, as given. */
  get uuid() {
    return this.#uuid;
  }
  /**
   * A pairing code for this display, with its QR code as PNG bytes. The display must be
   * connected (the server answers `display_offline` otherwise); asking again returns the
   * same code while it lives. The code ends when this display disconnects: after a
   * reconnect, ask again. Rejects with an {@link HttpError}.
   */
  async pairingCode() {
    const token = this.#tokenProvider ? await this.#tokenProvider() ?? void 0 : this.#token;
    return requestPairingCode(this.base, this.#uuid, token);
  }
  path() {
    return `/ws/difficulty/unity/${encodeURIComponent(this.#uuid)}`;
  }
  received(message) {
    if (message.type === "draw") this.dispatch("draw", message.draw);
  }
};
export {
  Backoff,
  ConnectionLostError,
  Controller,
  Display,
  HandlerError,
  HttpError,
  NotConnectedError,
  PairlinkError,
  RefusedError,
  SUBPROTOCOL,
  ServerError
};
