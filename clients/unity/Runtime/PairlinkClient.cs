// What displays and controllers share: the connection and its state, relay in both
// directions, presence, errors, pause and resume, disposal. Every event is delivered
// through the EventDispatcher, so handlers run on the app's main thread.

using System;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    public abstract class PairlinkClient : IDisposable, IAsyncDisposable
    {
        internal readonly PairlinkOptions options;
        internal readonly Uri serverBase;
        private readonly Connection connection;
        private readonly EventDispatcher dispatcher;
        private volatile string uuid;
        private volatile bool peerConnected;
        private volatile Welcome welcome;
        private int disposed;

        internal PairlinkClient(Uri serverBase, string uuid, PairlinkOptions options)
        {
            this.serverBase = serverBase;
            this.uuid = uuid;
            this.options = (options ?? new PairlinkOptions()).Checked();
            dispatcher = new EventDispatcher(SynchronizationContext.Current, RaiseError);
            connection = new Connection(this, this.options);
        }

        /// <summary>The state changed; <see cref="StateChangedEventArgs.Current"/> is the new one.</summary>
        public event EventHandler<StateChangedEventArgs> StateChanged;
        /// <summary>JSON relay data from the other side.</summary>
        public event EventHandler<RelayMessage> RelayReceived;
        /// <summary>Binary relay data from the other side.</summary>
        public event EventHandler<BinaryRelayMessage> BinaryRelayReceived;
        /// <summary>The other side connected (or a newer device replaced it) or went.
        /// Also raised on open when the welcome's <c>peer</c> differs from <see cref="PeerConnected"/>.</summary>
        public event EventHandler<PeerChange> PeerChanged;
        /// <summary>An error no awaited call could report (see <see cref="PairlinkErrorEventArgs"/>).</summary>
        public event EventHandler<PairlinkErrorEventArgs> Error;

        /// <summary><c>display</c> or <c>controller</c>.</summary>
        public abstract string Role { get; }

        /// <summary>The pair's UUID; for a controller that joined with a code, learnt from the welcome.</summary>
        public string Uuid { get { return uuid; } }

        /// <summary>Whether the other side was connected, as last heard from pairlink.</summary>
        public bool PeerConnected { get { return peerConnected; } }

        /// <summary>The welcome of the current (or last) connection; null before the first.</summary>
        public Welcome Welcome { get { return welcome; } }

        /// <summary>Now, read on any thread. Events report each change in order.</summary>
        public ConnectionState State { get { return connection.State; } }

        private string PeerRole { get { return Role == "display" ? "controller" : "display"; } }

        /// <summary>Connects, and keeps reconnecting as CLIENT-SDKS.md says, until closed.
        /// Completes when the connection is first open; throws a <see cref="PairlinkException"/>
        /// (its Code is the reason: <c>replaced</c>, <c>invalid_uuid</c>, <c>unknown_code</c>,
        /// <c>token_expired</c>, …) when it closes for good first. The token cancels the wait,
        /// not the connection: call <see cref="CloseAsync"/> to stop.</summary>
        public Task ConnectAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return connection.ConnectAsync(cancellationToken);
        }

        /// <summary>Closes with 1000 and stops reconnecting: the state becomes
        /// <c>Closed(closed)</c>. Waits at most <see cref="PairlinkOptions.CloseTimeout"/>
        /// for pairlink's answer. <see cref="ConnectAsync"/> starts again.</summary>
        public Task CloseAsync()
        {
            return connection.StopAsync(CloseReason.ClosedByApp(), true, false);
        }

        /// <summary>For <c>OnApplicationPause(true)</c>: closes now, so that pairlink frees the
        /// UUID at once (held delivery takes the controller's draws) instead of writing to a
        /// frozen socket. The state becomes <c>Closed(paused)</c>; requests in flight fail
        /// with <c>connection_lost</c>.</summary>
        public void Pause()
        {
            Observe(connection.StopAsync(CloseReason.Paused(), true, false));
        }

        /// <summary>For <c>OnApplicationPause(false)</c>: reconnects at once after
        /// <see cref="Pause"/>. Does nothing if the client was not paused.</summary>
        public void Resume()
        {
            connection.Resume();
        }

        /// <summary>Sends JSON relay data to the other side. No answer comes on success;
        /// if the other side is absent, <see cref="Error"/> reports pairlink's
        /// <c>controller_offline</c> or <c>display_offline</c>. Throws <c>not_connected</c>
        /// when not open, <c>message_too_big</c> over the welcome's limit.</summary>
        public async Task RelayAsync(JToken data, CancellationToken cancellationToken = default(CancellationToken))
        {
            Session session = connection.OpenSession();
            await session.SendTextAsync(Wire.Relay(data), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Sends any value as JSON relay data (through <c>JToken.FromObject</c>).</summary>
        public Task RelayAsync(object data, CancellationToken cancellationToken = default(CancellationToken))
        {
            JToken json = data as JToken;
            if (json == null) json = data == null ? JValue.CreateNull() : JToken.FromObject(data);
            return RelayAsync(json, cancellationToken);
        }

        /// <summary>Sends binary relay data; the other side receives it as binary.</summary>
        public Task RelayAsync(byte[] data, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            return RelayBinaryAsync(data, cancellationToken);
        }

        private async Task RelayBinaryAsync(byte[] data, CancellationToken cancellationToken)
        {
            Session session = connection.OpenSession();
            await session.SendBinaryAsync(data, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Closes (with a close frame, in the background) and delivers no more events.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1) return;
            dispatcher.Stop();
            Observe(connection.StopAsync(CloseReason.ClosedByApp(), true, true));
        }

        /// <summary>Closes, waiting for pairlink's answer as <see cref="CloseAsync"/> does,
        /// and delivers no more events.</summary>
        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1) return new ValueTask();
            dispatcher.Stop();
            return new ValueTask(connection.StopAsync(CloseReason.ClosedByApp(), true, true));
        }

        internal Connection Connection { get { return connection; } }

        /// <summary>Where the next attempt connects.</summary>
        internal abstract Uri Endpoint();

        /// <summary>A message this role handles itself (draw, ack); false if it does not know it.</summary>
        internal virtual bool HandleMessage(string type, JObject message, Session session)
        {
            return false;
        }

        /// <summary>An error answering one of this role's requests; false if none waits for it.</summary>
        internal virtual bool HandleError(PairlinkException error, long? id, Session session)
        {
            return false;
        }

        internal void OnWelcome(Welcome received)
        {
            welcome = received;
            uuid = received.Uuid;
        }

        internal void OnOpened(Welcome received)
        {
            if (received.Peer == peerConnected) return;
            peerConnected = received.Peer;
            RaisePeer(new PeerChange(PeerRole, received.Peer));
        }

        internal void OnStateChanged(ConnectionState previous, ConnectionState current)
        {
            var args = new StateChangedEventArgs(previous, current);
            Post(() => { EventHandler<StateChangedEventArgs> h = StateChanged; if (h != null) h(this, args); });
        }

        internal void OnBinary(byte[] data)
        {
            var args = new BinaryRelayMessage(data);
            Post(() => { EventHandler<BinaryRelayMessage> h = BinaryRelayReceived; if (h != null) h(this, args); });
        }

        internal void OnMessage(JObject message, Session session)
        {
            string type = Wire.TypeOf(message);
            try
            {
                switch (type)
                {
                    case "relay":
                        var relay = new RelayMessage(message["data"] ?? JValue.CreateNull());
                        Post(() => { EventHandler<RelayMessage> h = RelayReceived; if (h != null) h(this, relay); });
                        return;
                    case "peer":
                        PeerChange change = Wire.ReadPeer(message);
                        peerConnected = change.Connected;
                        RaisePeer(change);
                        return;
                    case "pong":
                        return;
                    case "error":
                        PairlinkException error = Wire.ReadError(message);
                        if (!HandleError(error, Wire.IdOf(message), session)) ReportError(error);
                        return;
                    default:
                        // Types added by later versions of the protocol are ignored.
                        HandleMessage(type, message, session);
                        return;
                }
            }
            catch (FormatException e)
            {
                ReportError(new PairlinkException(ErrorCodes.InvalidMessage, "a '" + type + "' message from pairlink was skipped: " + e.Message));
            }
        }

        internal void ReportError(PairlinkException error)
        {
            Post(() => RaiseError(error));
        }

        /// <summary>Queues a handler call for the app's context.</summary>
        internal void Post(Action handler)
        {
            dispatcher.Post(handler);
        }

        private void RaisePeer(PeerChange change)
        {
            Post(() => { EventHandler<PeerChange> h = PeerChanged; if (h != null) h(this, change); });
        }

        private void RaiseError(PairlinkException error)
        {
            EventHandler<PairlinkErrorEventArgs> h = Error;
            if (h != null) h(this, new PairlinkErrorEventArgs(error));
        }

        /// <summary>Fire-and-forget work must not leave an unobserved exception behind.</summary>
        private static void Observe(Task task)
        {
            task.ContinueWith(t => { GC.KeepAlive(t.Exception); }, TaskContinuationOptions.OnlyOnFaulted);
        }
    }
}
