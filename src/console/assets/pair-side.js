// One side of a pair on a page, driven by the SDK (/console/pairlink-client.js, built
// from clients/js): its state badge, its peer's presence, its buttons and its log. The
// console's Pair panel has two of them; the phone page at /join/{code} has one.
import { el, setBadge, show } from '/console/ui.js';

/** The badge for a connection state: its colour (off, busy, on, error) and its words. */
export function stateBadge(state) {
  switch (state.type) {
    case 'connecting':
      return ['busy', 'connecting'];
    case 'open':
      return ['on', 'connected'];
    case 'reconnecting':
      return state.reason.reason === 'display_offline'
        ? ['busy', 'waiting for display']
        : ['busy', `reconnecting (attempt ${state.attempt})`];
    default:
      return state.reason.reason === 'closed' ? ['off', 'disconnected'] : ['error', `closed: ${state.reason.reason}`];
  }
}

/** Relay data as a line: JSON as compact text, binary as its size. */
export function relayText(relay) {
  return relay.binary ? `${relay.data.byteLength} bytes (binary)` : show(relay.data);
}

/** What a text field holds as relay data: its JSON value if it is JSON, else the text as a string. */
export function relayValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An error as a log entry: its code in bold, then its message. */
export function errorEntry(log, error) {
  log.add('error', 'error', el('strong', { text: error.code ?? 'error' }), ` ${error.message ?? ''}`);
}

/** Why a connection ended, in words: `1006 network_lost`. */
function closeWords({ code, reason }) {
  return reason === String(code) ? String(code) : `${code} ${reason}`;
}

/**
 * Binds a Display or Controller to its part of a page. `attach(client, what)` takes a
 * new SDK object (closing the previous one); the badge, presence, buttons and log then
 * follow its events.
 */
export class Side {
  constructor({ badge, peerBadge, peerName, connectButtons, disconnectButton, whileOpen, log, onEnd }) {
    Object.assign(this, { badge, peerBadge, peerName, connectButtons, disconnectButton, whileOpen, log });
    this.onEnd = onEnd ?? (() => {});
    this.client = null;
  }

  attach(client, what) {
    this.client?.close();
    this.client = client;
    let lastTrouble = null;
    const mine = (handler) => (event) => {
      if (this.client === client) handler(event);
    };
    client.on('state', mine((state) => {
      setBadge(this.badge, ...stateBadge(state));
      this.setButtons(state);
      if (state.type === 'open') {
        this.log.add('info', 'open', lastTrouble ? `Reconnected ${what}` : `Connected ${what}`);
        lastTrouble = null;
      } else if (state.type === 'reconnecting' && state.reason.reason !== lastTrouble) {
        // One entry per kind of trouble; the badge counts the attempts.
        lastTrouble = state.reason.reason;
        if (state.reason.error?.closeCode) errorEntry(this.log, state.reason.error);
        this.log.add('info', 'retry', `Connection ${closeWords(state.reason)}: trying again by itself`);
      } else if (state.type === 'closed') {
        this.ended(state);
      }
    }));
    client.on('peer', mine(({ connected }) => {
      setBadge(this.peerBadge, connected ? 'on' : 'off', connected ? 'connected' : 'absent');
      this.log.add('info', 'peer', `${this.peerName} ${connected ? 'connected' : 'not connected'}`);
    }));
    client.on('relay', mine((relay) => {
      this.log.add('in', `from ${this.peerName.toLowerCase()}`, el('code', { text: relayText(relay) }));
    }));
    client.on('error', mine((error) => errorEntry(this.log, error)));
    setBadge(this.badge, ...stateBadge(client.state));
    this.setButtons(client.state);
  }

  ended(state) {
    this.client = null;
    setBadge(this.peerBadge, 'off', 'unknown');
    const error = state.reason.error;
    if (error && state.reason.reason !== 'closed') errorEntry(this.log, error);
    this.log.add('info', 'close', `Connection closed (${closeWords(state.reason)})`);
    this.onEnd();
  }

  /** Closes the connection for good. */
  disconnect() {
    this.client?.close();
  }

  setButtons(state) {
    const alive = state.type !== 'closed';
    for (const button of this.connectButtons) button.disabled = alive;
    this.disconnectButton.disabled = !alive;
    for (const button of this.whileOpen) button.disabled = state.type !== 'open';
  }
}
