// The Pair panel: a simulated display and controller side by side, both built on the
// SDK (/console/pairlink-client.js, built from clients/js), so the console speaks
// protocol v2 exactly as apps do: draws with the quiz and action texts looked up in the
// content API, acknowledgements, presence, relay both ways, pairing codes, reconnects.
import { Controller, Display } from '/console/pairlink-client.js';
import { errorEntry, relayText, relayValue, Side } from '/console/pair-side.js';
import { Log, byId, el, wsUrl } from '/console/ui.js';

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

/** A draw as the SDK gives it, with a tag when it was held for the display. */
function drawEntry(draw) {
  const wire = { quiz_id: draw.quizIds, action_id: draw.actionId, difficulty: draw.difficulty };
  return [
    draw.held ? el('span', { className: 'tag', text: `held since ${draw.sentAt?.toLocaleTimeString() ?? '?'}` }) : null,
    el('span', { className: 'draw-heading', text: 'Quizzes' }),
    el('ul', { className: 'draw' }, ...draw.quizIds.map((id) => drawLine('quizzes', id))),
    el('span', { className: 'draw-heading', text: 'Action' }),
    el('ul', { className: 'draw' }, drawLine('actions', draw.actionId)),
    el('code', { className: 'raw', text: JSON.stringify(wire) }),
  ];
}

/** The server that served this page, as the SDK's `url`: `wss:` when the page came over `https:`. */
const server = () => wsUrl('');

/** Shows a pairing code, its expiry and QR code, and the phone page that joins with it. */
function showCode(pairing) {
  const expires = pairing.expiresAt;
  byId('display-code-value').textContent = pairing.code;
  const expiry = byId('display-code-expiry');
  expiry.dateTime = expires.toISOString();
  expiry.textContent = `at ${expires.toLocaleTimeString()} (in ${Math.round((expires - Date.now()) / 60000)} min)`;
  const page = byId('display-code-page');
  page.href = pairing.pageUrl;
  page.textContent = pairing.pageUrl;
  byId('display-code-path').textContent = pairing.code;
  const qr = byId('display-code-qr');
  if (qr.src.startsWith('blob:')) URL.revokeObjectURL(qr.src);
  qr.alt = `QR code of the join URL for pairing code ${pairing.code}`;
  qr.src = URL.createObjectURL(new Blob([pairing.qrPng], { type: 'image/png' }));
  byId('display-code-box').hidden = false;
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

  const display = new Side({
    badge: byId('display-state'),
    peerBadge: byId('display-peer'),
    peerName: 'Controller',
    connectButtons: [byId('display-connect')],
    disconnectButton: byId('display-disconnect'),
    whileOpen: [byId('display-send'), byId('display-code')],
    log: displayLog,
    // A pairing code ends with its display's connection.
    onEnd: () => {
      byId('display-code-box').hidden = true;
    },
  });
  const controller = new Side({
    badge: byId('controller-state'),
    peerBadge: byId('controller-peer'),
    peerName: 'Display',
    connectButtons: [byId('controller-connect'), byId('controller-join')],
    disconnectButton: byId('controller-disconnect'),
    whileOpen: [byId('controller-send'), byId('controller-relay-send')],
    log: controllerLog,
  });

  byId('display-connect').addEventListener('click', () => {
    const id = uuid();
    const client = new Display({ url: server(), uuid: id });
    client.on('draw', (draw) => displayLog.add('in', 'draw', ...drawEntry(draw)));
    // A reconnected display has no code any more: the old one ended with its connection.
    client.on('state', (state) => {
      if (state.type !== 'open') byId('display-code-box').hidden = true;
    });
    display.attach(client, `as the display of ${id}`);
  });
  byId('display-disconnect').addEventListener('click', () => display.disconnect());
  byId('display-send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    relay(display, displayLog, byId('display-message').value);
  });
  byId('display-code').addEventListener('click', async () => {
    try {
      const pairing = await display.client.pairingCode();
      showCode(pairing);
      byId('controller-code').value = pairing.code;
      displayLog.add('info', 'code', `Pairing code ${pairing.code}`);
    } catch (error) {
      errorEntry(displayLog, error);
    }
  });

  byId('controller-connect').addEventListener('click', () => {
    const id = uuid();
    controller.attach(new Controller({ url: server(), uuid: id }), `as the controller of ${id}`);
  });
  byId('controller-join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = byId('controller-code').value.trim().toUpperCase();
    if (!code) {
      byId('controller-code').focus();
      return;
    }
    controller.attach(new Controller({ url: server(), code }), `with pairing code ${code}`);
  });
  byId('controller-disconnect').addEventListener('click', () => controller.disconnect());
  byId('controller-send-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    // Sent as typed: a value that is not an integer shows the SDK's own refusal.
    const value = byId('controller-difficulty').value.trim();
    const difficulty = value === '' ? Number.NaN : Number(value);
    controllerLog.add('out', 'sent', `difficulty ${value || '(empty)'}`);
    try {
      const status = await controller.client.difficulty(difficulty);
      if (status === 'received') controllerLog.add('ok', 'received', 'Delivered to the display');
      else controllerLog.add('ok', 'queued', 'Held until the display is back');
    } catch (error) {
      errorEntry(controllerLog, error);
    }
  });
  byId('controller-relay-form').addEventListener('submit', (event) => {
    event.preventDefault();
    relay(controller, controllerLog, byId('controller-message').value);
  });

  return {};
}

/** Sends a text field's content as relay data (its JSON value, or the text as a string). */
function relay(side, log, text) {
  const data = relayValue(text);
  try {
    if (side.client?.relay(data)) log.add('out', 'sent', el('code', { text: relayText({ binary: false, data }) }));
    else log.add('error', 'not sent', 'Not connected');
  } catch (error) {
    errorEntry(log, error);
  }
}
