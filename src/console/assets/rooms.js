// The Rooms panel: one member of /ws/rooms/{room}, its roster and the messages with
// their seq. "Reconnect" rejoins with ?since= the last seq seen and shows what the
// welcome says about recovery and which messages were replayed.
import { Log, byId, describeClose, el, explainRefusal, parseJson, setBadge, shortId, show, wsUrl } from '/console/ui.js';

export function initRooms() {
  const roomInput = byId('rooms-room');
  const nameInput = byId('rooms-name');
  const badge = byId('rooms-state');
  const seqLabel = byId('rooms-seq');
  const recovery = byId('rooms-recovery');
  const membersList = byId('rooms-members');
  const memberCount = byId('rooms-member-count');
  const messageInput = byId('rooms-message');
  const messageError = byId('rooms-message-error');
  const buttons = { join: byId('rooms-join'), leave: byId('rooms-leave'), reconnect: byId('rooms-reconnect'), send: byId('rooms-send') };
  const log = new Log(byId('rooms-messages'), 500);

  let socket = null;
  /** The room joined last; its seq counts on across reconnects. */
  let joinedRoom = null;
  let lastSeq = null;
  let myId = null;
  /** Members by id, in join order (a Map keeps insertion order). */
  let members = new Map();
  /**
   * Whether this member hears joins and leaves (the welcome says; big rooms do not tell
   * them), and the room's size as last counted (welcome or roster) when it does not.
   */
  let notices = true;
  let counted = 0;
  /** While a rejoin's replay arrives: the welcome's seq, and how many were replayed. */
  let replay = null;

  const who = (id, name) => `${name ?? 'anonymous'} (${shortId(id)})${id === myId ? ', you' : ''}`;

  function renderMembers() {
    membersList.replaceChildren(...[...members].map(([id, name]) =>
      el('li', { className: id === myId ? 'me' : '' },
        el('span', { className: 'member-name', text: name ?? 'anonymous' }),
        el('code', { className: 'member-id', text: shortId(id) }),
        id === myId ? el('span', { className: 'tag', text: 'you' }) : null)));
    // Without notices the list is the roster as last asked for, the count as last told.
    memberCount.textContent = String(notices ? members.size : counted);
  }

  function setSeq(seq) {
    lastSeq = seq;
    seqLabel.textContent = `last seq: ${seq}`;
  }

  function setConnected(connected) {
    buttons.join.disabled = connected;
    buttons.leave.disabled = !connected;
    buttons.send.disabled = !connected;
    buttons.reconnect.disabled = !connected && lastSeq === null;
  }

  function showRecovery() {
    const replayed = replay.count === 1 ? '1 missed message replayed' : `${replay.count} missed messages replayed`;
    recovery.textContent = replay.recovered
      ? `recovered: ${replayed}`
      : `not fully recovered: some messages after seq ${replay.since} are gone; ${replayed}`;
    recovery.dataset.state = replay.recovered ? 'on' : 'error';
    recovery.hidden = false;
  }

  function onEvent(event) {
    switch (event.type) {
      case 'welcome':
        myId = event.id;
        notices = event.notices !== false;
        counted = event.count ?? 0;
        // A big room counts its members but does not list them: ask for the first page.
        members = new Map((event.members ?? []).map((member) => [member.id, member.name]));
        if (event.members === undefined) socket?.send(JSON.stringify({ type: 'roster' }));
        renderMembers();
        setBadge(badge, 'on', `in ${joinedRoom}`);
        if (event.recovered === undefined) {
          setSeq(event.seq);
          log.add('info', 'welcome', `Joined ${joinedRoom} at seq ${event.seq} as ${who(event.id, nameInput.value.trim() || null)}`);
        } else {
          replay = { since: lastSeq, upTo: event.seq, recovered: event.recovered, count: 0 };
          log.add(event.recovered ? 'ok' : 'error', 'welcome',
            `Rejoined ${joinedRoom} since seq ${lastSeq}: recovered ${event.recovered}`);
          showRecovery();
        }
        break;
      case 'roster':
        members = new Map(event.members.map((member) => [member.id, member.name]));
        counted = event.count;
        renderMembers();
        log.add('info', 'roster', `${event.count} members; ${event.members.length} listed from ${event.offset}`);
        break;
      case 'join':
        members.set(event.id, event.name);
        renderMembers();
        log.add('info', 'join', `${who(event.id, event.name)} joined`);
        break;
      case 'leave': {
        const name = members.get(event.id);
        members.delete(event.id);
        renderMembers();
        log.add('info', 'leave', `${who(event.id, name)} left`);
        break;
      }
      case 'message': {
        const replayed = replay !== null && event.seq <= replay.upTo;
        if (replayed) {
          replay.count += 1;
          showRecovery();
        }
        setSeq(event.seq);
        const entry = log.add(event.from === myId ? 'out' : 'in', `#${event.seq}`,
          el('span', { className: 'from', text: `${event.name ?? shortId(event.from)}: ` }),
          typeof event.data === 'string' ? event.data : el('code', { text: show(event.data) }),
          replayed ? el('span', { className: 'tag', text: 'replayed' }) : null);
        entry.dataset.seq = String(event.seq);
        break;
      }
      case 'error':
        log.add('error', event.code ?? 'error', event.message ?? '');
        break;
      default:
        log.add('in', event.type ?? 'message', el('code', { text: show(event) }));
    }
  }

  function join({ since } = {}) {
    const room = roomInput.value.trim();
    const name = nameInput.value.trim();
    if (room !== joinedRoom) {
      // Another room: its seq has nothing to do with the last one's.
      lastSeq = null;
      since = undefined;
      seqLabel.textContent = 'last seq: none';
      log.clear();
    }
    joinedRoom = room;
    replay = null;
    recovery.hidden = true;
    const query = new URLSearchParams();
    if (name) query.set('name', name);
    if (since !== undefined && since !== null) query.set('since', String(since));
    const path = `/ws/rooms/${encodeURIComponent(room)}${query.size ? `?${query}` : ''}`;

    let opened = false;
    const current = new WebSocket(wsUrl(path));
    socket = current;
    setBadge(badge, 'busy', 'joining');
    setConnected(true);
    current.addEventListener('open', () => { opened = true; });
    current.addEventListener('message', ({ data }) => {
      // A connection being replaced by a reconnect: the new one replays from lastSeq.
      if (socket !== current) return;
      const event = parseJson(data);
      if (event && typeof event === 'object') onEvent(event);
      else log.add('in', 'text', String(data));
    });
    current.addEventListener('close', async (event) => {
      if (socket !== current) return;
      socket = null;
      members = new Map();
      renderMembers();
      setConnected(false);
      if (opened) {
        setBadge(badge, 'off', `left ${joinedRoom}`);
        log.add('info', 'close', `Connection ${describeClose(event)}; reconnect to catch up from seq ${lastSeq}`);
        return;
      }
      const refusal = await explainRefusal(path);
      setBadge(badge, 'error', refusal ? 'refused' : 'failed');
      log.add('error', refusal?.code ?? 'failed', refusal?.message ?? 'Could not connect: is the server running?');
    });
  }

  function leave() {
    if (!socket) return;
    const closing = socket;
    closing.close(1000, 'left from the console');
  }

  byId('rooms-join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!socket) join();
  });
  buttons.leave.addEventListener('click', leave);
  buttons.reconnect.addEventListener('click', () => {
    if (socket) {
      // Drop this connection without waiting for it: the new one starts from lastSeq.
      const old = socket;
      socket = null;
      old.close(1000, 'reconnecting');
    }
    join({ since: lastSeq ?? undefined });
  });

  byId('rooms-send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (socket?.readyState !== WebSocket.OPEN) return;
    const text = messageInput.value;
    const format = document.querySelector('input[name="rooms-format"]:checked').value;
    let wire = JSON.stringify(text);
    if (format === 'json') {
      if (parseJson(text) === undefined) {
        messageError.textContent = 'Not valid JSON. Choose "text" to send it as a string.';
        messageError.hidden = false;
        messageInput.setAttribute('aria-invalid', 'true');
        messageInput.focus();
        return;
      }
      wire = text;
    }
    messageError.hidden = true;
    messageInput.removeAttribute('aria-invalid');
    socket.send(wire);
    messageInput.value = '';
    messageInput.focus();
  });

  return {};
}
