// A WebRTC peer that finds its partner through pairlink's /ws/signal/{room}, speaking
// seed 001's message shape, then chats over a data channel. Loaded into a page by the
// browser test; the state it reaches is kept on `window.peer` for the test to read.
window.startPeer = (signalUrl) => {
  const peer = { id: null, state: 'joining', received: [], errors: [], connection: null, channel: null };
  window.peer = peer;
  const socket = new WebSocket(signalUrl);
  let partner = null;
  const send = (message) => socket.send(JSON.stringify({ ...message, target_id: partner }));

  const connectionTo = (id) => {
    partner = id;
    const pc = new RTCPeerConnection({ iceServers: [] });
    peer.connection = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) {
        // Seed 001 carries candidates as a list of strings.
        send({ type: 'candidate', candidate: [candidate.candidate, candidate.sdpMid ?? '', String(candidate.sdpMLineIndex ?? 0)] });
      }
    };
    pc.ondatachannel = ({ channel }) => useChannel(channel);
    return pc;
  };
  const useChannel = (channel) => {
    peer.channel = channel;
    channel.onopen = () => { peer.state = 'open'; channel.send(`hello from ${peer.id}`); };
    channel.onmessage = ({ data }) => peer.received.push(data);
  };

  socket.onmessage = async ({ data }) => {
    const message = JSON.parse(data);
    switch (message.type) {
      case 'welcome':
        peer.id = message.id;
        peer.state = 'waiting';
        if (message.peers.length > 0) {
          // The newcomer calls the peer already there.
          const pc = connectionTo(message.peers[0]);
          useChannel(pc.createDataChannel('chat'));
          await pc.setLocalDescription(await pc.createOffer());
          send({ type: 'offer', sdp: pc.localDescription.sdp });
          peer.state = 'offered';
        }
        break;
      case 'offer': {
        const pc = connectionTo(message.id);
        await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'answer', sdp: pc.localDescription.sdp });
        peer.state = 'answered';
        break;
      }
      case 'answer':
        await peer.connection.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        break;
      case 'candidate': {
        const [candidate, sdpMid, index] = message.candidate;
        await peer.connection.addIceCandidate({ candidate, sdpMid, sdpMLineIndex: Number(index) });
        break;
      }
      case 'error':
        peer.errors.push(message);
        break;
      default:
        break;
    }
  };
};
