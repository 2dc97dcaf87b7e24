// The Signaling panel: one WebRTC peer in /ws/signal/{room}. It lists the other peers;
// "Connect" sends an offer through pairlink, the other side answers by itself, both
// trade ICE candidates, and then the chat goes over the data channel, not the server.
import { Log, byId, describeClose, el, explainRefusal, parseJson, setBadge, shortId, show, wsUrl } from '/console/ui.js';

export function initSignal() {
  const roomInput = byId('signal-room');
  const badge = byId('signal-state');
  const peersList = byId('signal-peers');
  const peersEmpty = byId('signal-peers-empty');
  const connectionBadge = byId('signal-connection');
  const channelBadge = byId('signal-channel');
  const partnerLabel = byId('signal-partner');
  const messageInput = byId('signal-message');
  const buttons = { join: byId('signal-join'), leave: byId('signal-leave'), send: byId('signal-send') };
  const chat = new Log(byId('signal-chat'));
  const wire = new Log(byId('signal-log'), 300);

  let socket = null;
  let myId = null;
  let peers = [];
  let connection = null;
  let channel = null;
  let partner = null;
  /** Candidates that arrived before the remote description they belong to. */
  let pendingCandidates = [];

  function signal(message) {
    if (socket?.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify(message));
    wire.add('out', message.type, `to ${shortId(message.target_id)}`);
  }

  function renderPeers() {
    peersList.replaceChildren(...peers.map((id) => {
      const connected = id === partner && channel?.readyState === 'open';
      const button = el('button', {
        text: connected ? 'Connected' : 'Connect',
        attrs: { type: 'button', 'aria-label': `Connect to peer ${shortId(id)}` },
      });
      button.disabled = connected;
      button.addEventListener('click', () => call(id));
      return el('li', {}, el('code', { className: 'member-id', text: shortId(id) }), button);
    }));
    peersEmpty.hidden = peers.length > 0 || !socket;
  }

  function setChannelState(state) {
    setBadge(channelBadge, state === 'open' ? 'on' : state === 'connecting' ? 'busy' : 'off', state);
    buttons.send.disabled = state !== 'open';
    renderPeers();
  }

  function hangUp() {
    channel?.close();
    connection?.close();
    channel = null;
    connection = null;
    partner = null;
    pendingCandidates = [];
    partnerLabel.textContent = '–';
    setBadge(connectionBadge, 'off', 'none');
    setChannelState('closed');
  }

  function useChannel(dataChannel) {
    channel = dataChannel;
    setChannelState(dataChannel.readyState);
    dataChannel.addEventListener('open', () => {
      setChannelState('open');
      chat.add('info', 'open', `Data channel open with ${shortId(partner)}`);
    });
    dataChannel.addEventListener('close', () => {
      if (channel === dataChannel) setChannelState('closed');
    });
    dataChannel.addEventListener('message', ({ data }) => chat.add('in', shortId(partner), String(data)));
  }

  function newConnection(peerId) {
    hangUp();
    partner = peerId;
    partnerLabel.textContent = shortId(peerId);
    // No STUN or TURN servers: the console must work without the internet, and peers on
    // one LAN reach each other with host candidates.
    const pc = new RTCPeerConnection({ iceServers: [] });
    connection = pc;
    pc.addEventListener('icecandidate', ({ candidate }) => {
      // A browser's RTCIceCandidateInit object; pairlink passes it on unchanged.
      if (candidate && connection === pc) signal({ type: 'candidate', target_id: peerId, candidate: candidate.toJSON() });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (connection !== pc) return;
      const state = pc.connectionState;
      setBadge(connectionBadge, state === 'connected' ? 'on' : state === 'failed' ? 'error' : 'busy', state);
    });
    pc.addEventListener('datachannel', ({ channel: incoming }) => useChannel(incoming));
    setBadge(connectionBadge, 'busy', 'new');
    return pc;
  }

  async function flushCandidates(pc) {
    for (const candidate of pendingCandidates.splice(0)) await pc.addIceCandidate(candidate);
  }

  async function call(peerId) {
    const pc = newConnection(peerId);
    useChannel(pc.createDataChannel('chat'));
    await pc.setLocalDescription(await pc.createOffer());
    signal({ type: 'offer', target_id: peerId, sdp: pc.localDescription.sdp });
  }

  async function onSignal(message) {
    switch (message.type) {
      case 'welcome':
        myId = message.id;
        byId('signal-me').textContent = shortId(myId);
        peers = [...message.peers];
        setBadge(badge, 'on', `in ${roomInput.value.trim()}`);
        renderPeers();
        break;
      case 'peer_joined':
        peers.push(message.id);
        renderPeers();
        break;
      case 'peer_left':
        peers = peers.filter((id) => id !== message.id);
        if (message.id === partner) {
          chat.add('info', 'left', `${shortId(message.id)} left the room`);
          hangUp();
        }
        renderPeers();
        break;
      case 'offer': {
        // Someone calls: answer, replacing any call in progress.
        const pc = newConnection(message.id);
        await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
        await flushCandidates(pc);
        await pc.setLocalDescription(await pc.createAnswer());
        signal({ type: 'answer', target_id: message.id, sdp: pc.localDescription.sdp });
        break;
      }
      case 'answer':
        if (connection && message.id === partner) {
          await connection.setRemoteDescription({ type: 'answer', sdp: message.sdp });
          await flushCandidates(connection);
        }
        break;
      case 'candidate': {
        if (!connection || message.id !== partner) break;
        const candidate = Array.isArray(message.candidate)
          // Seed 001's shape: [candidate, sdpMid, sdpMLineIndex].
          ? { candidate: message.candidate[0], sdpMid: message.candidate[1], sdpMLineIndex: Number(message.candidate[2]) }
          : message.candidate;
        if (connection.remoteDescription) await connection.addIceCandidate(candidate);
        else pendingCandidates.push(candidate);
        break;
      }
      case 'error':
        chat.add('error', message.code ?? 'error', message.message ?? '');
        break;
      default:
        break;
    }
  }

  function join() {
    const room = roomInput.value.trim();
    const path = `/ws/signal/${encodeURIComponent(room)}`;
    let opened = false;
    const current = new WebSocket(wsUrl(path));
    socket = current;
    setBadge(badge, 'busy', 'joining');
    buttons.join.disabled = true;
    buttons.leave.disabled = false;
    current.addEventListener('open', () => { opened = true; });
    current.addEventListener('message', ({ data }) => {
      const message = parseJson(data);
      if (!message || typeof message !== 'object') return;
      if (message.type !== 'welcome') wire.add('in', message.type, message.id ? `from ${shortId(message.id)}` : show(message));
      onSignal(message).catch((error) => chat.add('error', 'webrtc', String(error)));
    });
    current.addEventListener('close', async (event) => {
      if (socket !== current) return;
      socket = null;
      peers = [];
      renderPeers();
      buttons.join.disabled = false;
      buttons.leave.disabled = true;
      byId('signal-me').textContent = '–';
      if (opened) {
        setBadge(badge, 'off', 'not joined');
        wire.add('info', 'close', `Signaling connection ${describeClose(event)}`);
        return;
      }
      const refusal = await explainRefusal(path);
      setBadge(badge, 'error', refusal ? 'refused' : 'failed');
      chat.add('error', refusal?.code ?? 'failed', refusal?.message ?? 'Could not connect: is the server running?');
    });
  }

  byId('signal-join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!socket) join();
  });
  buttons.leave.addEventListener('click', () => {
    hangUp();
    socket?.close(1000, 'left from the console');
  });
  byId('signal-send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = messageInput.value;
    if (channel?.readyState !== 'open' || text === '') return;
    channel.send(text);
    chat.add('out', 'you', text);
    messageInput.value = '';
    messageInput.focus();
  });

  renderPeers();
  return {};
}
