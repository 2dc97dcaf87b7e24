// The phone controller at /join/{CODE}: a phone that scanned a display's QR code opens
// this page and is the display's controller, with nothing to install. Built on the SDK
// (/console/pairlink-client.js): it joins with the code from the page's path, sends
// difficulties, relays a pad's buttons and a drag area to the display, shows what the
// display relays back, and reconnects by itself (by UUID once the code has ended).
import { Controller } from '/console/pairlink-client.js';
import { relayText, stateBadge } from '/console/pair-side.js';
import { Log, byId, el, setBadge, wsUrl } from '/console/ui.js';

const code = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '').toUpperCase();
byId('join-code').textContent = code || '–';
document.title = `pairlink controller ${code}`;

const inbox = new Log(byId('join-inbox'), 50);
const answer = byId('join-answer');
const problem = byId('join-problem');
const controls = [...document.querySelectorAll('[data-difficulty], [data-button]')];

function say(state, text) {
  answer.dataset.state = state;
  answer.textContent = text;
}

/** Words for a connection that ended for good. */
function endedWords(reason) {
  if (reason.reason === 'unknown_code') return 'This code is not valid any more: ask the display for its current one.';
  if (reason.reason === 'replaced') return 'Another phone took over this display.';
  return `Disconnected: ${reason.error?.message || reason.reason}`;
}

const controller = new Controller({ url: wsUrl(''), code });
controller.on('state', (state) => {
  setBadge(byId('join-state'), ...stateBadge(state));
  for (const control of controls) control.disabled = state.type !== 'open';
  if (state.type === 'open') problem.hidden = true;
  if (state.type !== 'open') setBadge(byId('join-peer'), 'off', 'unknown');
  if (state.type === 'closed') {
    problem.textContent = endedWords(state.reason);
    problem.hidden = false;
    byId('join-other').hidden = false;
  }
});
controller.on('peer', ({ connected }) => setBadge(byId('join-peer'), connected ? 'on' : 'off', connected ? 'connected' : 'absent'));
controller.on('relay', (relay) => inbox.add('in', 'display', el('code', { text: relayText(relay) })));
controller.on('error', (error) => say('error', `${error.code}: ${error.message}`));

for (const button of document.querySelectorAll('[data-difficulty]')) {
  button.addEventListener('click', async () => {
    const difficulty = Number(button.dataset.difficulty);
    say('', `Difficulty ${difficulty}…`);
    try {
      const status = await controller.difficulty(difficulty);
      say('ok', status === 'received' ? `Difficulty ${difficulty}: on the display` : `Difficulty ${difficulty}: held until the display is back`);
    } catch (error) {
      say('error', `Difficulty ${difficulty}: ${error.code}`);
    }
  });
}

// Pad buttons: pressed and released, as games read buttons. A keyboard press (a click
// without a pointer) sends both at once.
for (const button of document.querySelectorAll('[data-button]')) {
  const send = (pressed) => {
    button.setAttribute('aria-pressed', String(pressed));
    controller.relay({ button: button.dataset.button, pressed });
  };
  button.addEventListener('pointerdown', () => send(true));
  for (const end of ['pointerup', 'pointercancel', 'pointerleave']) {
    button.addEventListener(end, () => {
      if (button.getAttribute('aria-pressed') === 'true') send(false);
    });
  }
  button.addEventListener('click', (event) => {
    if (event.detail !== 0) return;
    send(true);
    send(false);
  });
}

// The drag area: a stick from -1 to 1 on each axis (up is +y), sent at most once a frame.
const stick = byId('join-stick');
const knob = byId('join-knob');
let pending = null;
function sendStick(x, y) {
  const first = pending === null;
  pending = [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
  knob.style.transform = `translate(${x * (stick.clientWidth / 2 - 24)}px, ${-y * (stick.clientHeight / 2 - 24)}px)`;
  if (!first) return;
  requestAnimationFrame(() => {
    controller.relay({ stick: pending });
    pending = null;
  });
}
function moveStick(event) {
  if (stick.dataset.active !== 'true') return;
  const box = stick.getBoundingClientRect();
  const clamp = (value) => Math.max(-1, Math.min(1, value));
  sendStick(clamp(((event.clientX - box.left) / box.width) * 2 - 1), clamp(1 - ((event.clientY - box.top) / box.height) * 2));
}
stick.addEventListener('pointerdown', (event) => {
  stick.setPointerCapture(event.pointerId);
  stick.dataset.active = 'true';
  moveStick(event);
});
stick.addEventListener('pointermove', moveStick);
for (const end of ['pointerup', 'pointercancel']) {
  stick.addEventListener(end, () => {
    stick.dataset.active = 'false';
    sendStick(0, 0);
  });
}

byId('join-other').addEventListener('submit', (event) => {
  event.preventDefault();
  const other = byId('join-other-code').value.trim().toUpperCase();
  if (other) location.assign(`/join/${encodeURIComponent(other)}`);
});

// Back from the background (phone unlocked, tab shown): skip the rest of a reconnect wait.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') controller.retryNow();
});
