// The Pair panel: a simulated display (/ws/difficulty/unity/{uuid}) and controller
// (/ws/difficulty/android/{uuid} or /ws/join/{code}) side by side. The display's draws
// are shown with the quiz and action texts looked up in the content API.
import { Log, byId, describeClose, el, explainRefusal, parseJson, setBadge, wsUrl } from '/console/ui.js';

/** A random UUID; crypto.randomUUID exists only in secure contexts, and a phone on the
 * LAN usually opens the console over plain http. */
function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Quiz and action rows by id, fetched once each (`GET /api/quizzes/{id}`, `/api/actions/{id}`). */
const rows = new Map();
function lookup(kind, id) {
  const key = `${kind}/${id}`;
  if (!rows.has(key)) {
    rows.set(key, fetch(`/api/${kind}/${encodeURIComponent(id)}`)
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null));
  }
  return rows.get(key);
}

/** One line of a draw: `#4 Which is bigger? An elephant / A mouse`, filled in when the row arrives. */
function drawLine(kind, id) {
  const title = el('span', { className: 'draw-title', text: 'looking up…' });
  const choices = el('span', { className: 'draw-choices' });
  const line = el('li', {}, el('span', { className: 'draw-id', text: `#${id}` }), ' ', title, ' ', choices);
  lookup(kind, id).then((row) => {
    if (!row) {
      title.textContent = 'not in the catalogue';
      return;
    }
    title.textContent = kind === 'quizzes' ? row.name : (row.detail || 'action');
    choices.textContent = `${row.lef_sel ?? '?'} / ${row.rig_sel ?? '?'}`;
  });
  return line;
}

function drawEntry(draw) {
  return [
    el('span', { className: 'draw-heading', text: 'Quizzes' }),
    el('ul', { className: 'draw' }, ...draw.quiz_id.map((id) => drawLine('quizzes', id))),
    el('span', { className: 'draw-heading', text: 'Action' }),
    el('ul', { className: 'draw' }, drawLine('actions', draw.action_id)),
    el('code', { className: 'raw', text: JSON.stringify(draw) }),
  ];
}

function errorEntry(log, reply) {
  log.add('error', 'error', el('strong', { text: reply.code ?? 'error' }), ` ${reply.message ?? ''}`);
}

/**
 * One side's WebSocket: connect, disconnect, the state badge and buttons. `onText`
 * handles each text message.
 */
class Side {
  constructor({ badge, connectButtons, disconnectButton, whileOpen, log, onText, onClose }) {
    this.badge = badge;
    this.connectButtons = connectButtons;
    this.disconnectButton = disconnectButton;
    this.whileOpen = whileOpen;
    this.log = log;
    this.onText = onText;
    this.onClose = onClose ?? (() => {});
    this.socket = null;
  }

  connect(path, what) {
    this.disconnect();
    let opened = false;
    const socket = new WebSocket(wsUrl(path));
    this.socket = socket;
    setBadge(this.badge, 'busy', 'connecting');
    this.setButtons(true);
    socket.addEventListener('open', () => {
      opened = true;
      setBadge(this.badge, 'on', 'connected');
      this.log.add('info', 'open', `Connected ${what}`);
      for (const button of this.whileOpen) button.disabled = false;
    });
    socket.addEventListener('message', ({ data }) => {
      if (typeof data === 'string') this.onText(data);
      else this.log.add('in', 'binary', `${data.size ?? data.byteLength} bytes`);
    });
    socket.addEventListener('close', async (event) => {
      if (this.socket === socket) this.socket = null;
      if (this.socket) {
        // Superseded by a newer connection of this side, which now owns the badge.
        if (opened) this.log.add('info', 'close', `Previous connection ${describeClose(event)}`);
        return;
      }
      this.onClose();
      this.setButtons(false);
      if (opened) {
        setBadge(this.badge, 'off', 'disconnected');
        this.log.add('info', 'close', `Connection ${describeClose(event)}`);
        return;
      }
      const refusal = await explainRefusal(path);
      setBadge(this.badge, 'error', refusal ? 'refused' : 'failed');
      if (refusal) errorEntry(this.log, refusal);
      else this.log.add('error', 'failed', 'Could not connect: is the server running?');
    });
  }

  disconnect() {
    if (!this.socket) return;
    const socket = this.socket;
    this.socket = null;
    socket.close(1000, 'closed from the console');
  }

  send(text) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(text);
    this.log.add('out', 'sent', el('code', { text }));
    return true;
  }

  setButtons(connected) {
    for (const button of this.connectButtons) button.disabled = connected;
    this.disconnectButton.disabled = !connected;
    if (!connected) for (const button of this.whileOpen) button.disabled = true;
  }
}

export function initPair() {
  const uuidInput = byId('pair-uuid');
  const uuid = () => {
    if (!uuidInput.value.trim()) uuidInput.value = newUuid();
    return uuidInput.value.trim();
  };
  byId('pair-new-uuid').addEventListener('click', () => {
    uuidInput.value = newUuid();
    uuidInput.focus();
  });
  byId('pair-uuid-form').addEventListener('submit', (event) => event.preventDefault());

  const displayLog = new Log(byId('display-log'));
  const controllerLog = new Log(byId('controller-log'));
  const codeBox = byId('display-code-box');

  const display = new Side({
    badge: byId('display-state'),
    connectButtons: [byId('display-connect')],
    disconnectButton: byId('display-disconnect'),
    whileOpen: [byId('display-send'), byId('display-code')],
    log: displayLog,
    onText(text) {
      const message = parseJson(text);
      if (message?.status === 'error') errorEntry(displayLog, message);
      else if (Array.isArray(message?.quiz_id)) displayLog.add('in', 'draw', ...drawEntry(message));
      else displayLog.add('in', 'received', el('code', { text }));
    },
    // A pairing code ends with its display's connection.
    onClose() {
      codeBox.hidden = true;
    },
  });

  const controller = new Side({
    badge: byId('controller-state'),
    connectButtons: [byId('controller-connect'), byId('controller-join')],
    disconnectButton: byId('controller-disconnect'),
    whileOpen: [byId('controller-send')],
    log: controllerLog,
    onText(text) {
      const message = parseJson(text);
      if (message?.status === 'error') errorEntry(controllerLog, message);
      else if (message?.status === 'received') controllerLog.add('ok', 'received', 'Delivered to the display');
      else if (message?.status === 'queued') controllerLog.add('ok', 'queued', 'Held until the display is back');
      else controllerLog.add('in', 'from display', el('code', { text }));
    },
  });

  byId('display-connect').addEventListener('click', () => {
    const id = uuid();
    display.connect(`/ws/difficulty/unity/${encodeURIComponent(id)}`, `as the display of ${id}`);
  });
  byId('display-disconnect').addEventListener('click', () => display.disconnect());
  byId('display-send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    display.send(byId('display-message').value);
  });

  byId('display-code').addEventListener('click', async () => {
    const id = uuid();
    let reply;
    try {
      const response = await fetch(`/api/pairings/${encodeURIComponent(id)}/code`, { method: 'POST' });
      reply = await response.json();
    } catch {
      reply = { code: 'failed', message: 'the server did not answer' };
    }
    if (reply.status === 'error' || !reply.expires_at) {
      errorEntry(displayLog, reply);
      return;
    }
    const expires = new Date(reply.expires_at);
    byId('display-code-value').textContent = reply.code;
    byId('display-code-path').textContent = reply.code;
    const expiry = byId('display-code-expiry');
    expiry.dateTime = reply.expires_at;
    expiry.textContent = `at ${expires.toLocaleTimeString()} (in ${Math.round((expires - Date.now()) / 60000)} min)`;
    const qr = byId('display-code-qr');
    qr.alt = `QR code of the join URL for pairing code ${reply.code}`;
    qr.src = `/api/pairings/code/${encodeURIComponent(reply.code)}/qr.svg`;
    codeBox.hidden = false;
    byId('controller-code').value = reply.code;
    displayLog.add('info', 'code', `Pairing code ${reply.code}`);
  });

  byId('controller-connect').addEventListener('click', () => {
    const id = uuid();
    controller.connect(`/ws/difficulty/android/${encodeURIComponent(id)}`, `as the controller of ${id}`);
  });
  byId('controller-join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = byId('controller-code').value.trim().toUpperCase();
    if (!code) {
      byId('controller-code').focus();
      return;
    }
    controller.connect(`/ws/join/${encodeURIComponent(code)}`, `with pairing code ${code}`);
  });
  byId('controller-disconnect').addEventListener('click', () => controller.disconnect());
  byId('controller-send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    // Sent as typed, so that the server's answer to a bad difficulty can be tried too.
    const value = byId('controller-difficulty').value.trim();
    controller.send(JSON.stringify({ difficulty: value === '' ? null : Number(value) }));
  });

  return {};
}
