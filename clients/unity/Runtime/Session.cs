// One WebSocket connection to pairlink, from the upgrade to its end: the handshake with
// the pairlink.v2 subprotocol, whole messages in, serialised sends out (ClientWebSocket
// allows one send at a time), the app-level ping, and why it ended.

using System;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    /// <summary>A frame as the app sees it: text or binary, whole.</summary>
    internal sealed class Frame
    {
        public string Text;
        public byte[] Binary;
    }

    /// <summary>The upgrade did not happen, or did not give a v2 connection.</summary>
    internal sealed class SessionRefused : Exception
    {
        public SessionRefused(CloseReason reason) : base(reason.ToString())
        {
            Reason = reason;
        }

        public CloseReason Reason { get; }
    }

    internal sealed class Session : IDisposable
    {
        /// <summary>Larger incoming messages end the connection: pairlink never sends them.</summary>
        private const int MaxIncomingBytes = 16 * 1024 * 1024;

        private readonly ClientWebSocket socket;
        private readonly SemaphoreSlim sendLock = new SemaphoreSlim(1, 1);
        private readonly CancellationTokenSource ended = new CancellationTokenSource();
        private int missedPongs;
        private CloseReason killedFor;
        /// <summary>The error pairlink sends before refusing in-band (4400, 4401, …): the
        /// close that follows carries its message and retry_after.</summary>
        private PairlinkException refusal;

        private Session(ClientWebSocket socket)
        {
            this.socket = socket;
        }

        public PendingRequests Pending { get; } = new PendingRequests();

        /// <summary>Set from the welcome; until then no limit is known.</summary>
        public int MaxMessageBytes { get; set; } = int.MaxValue;

        public DateTime OpenedAtUtc { get; set; }

        public static async Task<Session> ConnectAsync(Uri uri, string token, TimeSpan timeout, CancellationToken stop)
        {
            ClientWebSocket socket;
            try
            {
                socket = new ClientWebSocket();
            }
            catch (PlatformNotSupportedException e)
            {
                // WebGL: the browser offers no sockets to .NET.
                throw new SessionRefused(new CloseReason(1002, ErrorCodes.UnsupportedPlatform, e.Message));
            }
            socket.Options.AddSubProtocol(Wire.Subprotocol);
            if (!string.IsNullOrEmpty(token)) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                attempt.CancelAfter(timeout);
                try
                {
                    await socket.ConnectAsync(uri, attempt.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    socket.Dispose();
                    stop.ThrowIfCancellationRequested();
                    if (attempt.IsCancellationRequested)
                        throw new SessionRefused(CloseReason.Lost("connect_timeout", "no answer to the upgrade within " + timeout.TotalSeconds + " s"));
                    throw new SessionRefused(CloseReason.Lost("connect_failed", Describe(e)));
                }
            }
            if (socket.SubProtocol != Wire.Subprotocol)
            {
                socket.Abort();
                socket.Dispose();
                throw new SessionRefused(new CloseReason(1002, ErrorCodes.UnsupportedServer,
                    "the server did not accept the pairlink.v2 subprotocol: it is older than protocol v2"));
            }
            return new Session(socket);
        }

        /// <summary>The next whole message, or null once the connection has ended
        /// (then <see cref="EndReason"/> says why). Cancelling drops the connection.</summary>
        public async Task<Frame> ReceiveAsync(CancellationToken cancellationToken)
        {
            var buffer = new ArraySegment<byte>(new byte[8192]);
            MemoryStream message = null;
            try
            {
                while (true)
                {
                    WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await AnswerCloseAsync().ConfigureAwait(false);
                        return null;
                    }
                    if (message == null) message = new MemoryStream();
                    message.Write(buffer.Array, 0, result.Count);
                    if (message.Length > MaxIncomingBytes)
                    {
                        Kill(CloseReason.Lost("message_too_big", "pairlink sent a message over " + MaxIncomingBytes + " bytes"));
                        return null;
                    }
                    if (!result.EndOfMessage) continue;
                    Interlocked.Exchange(ref missedPongs, 0); // any message proves the server alive
                    if (result.MessageType == WebSocketMessageType.Text)
                        return new Frame { Text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length) };
                    return new Frame { Binary = message.ToArray() };
                }
            }
            catch (Exception e)
            {
                MarkEnd(CloseReason.Lost(ErrorCodes.ConnectionLost, Describe(e)));
                socket.Abort();
                return null;
            }
        }

        /// <summary>Reads up to pairlink's welcome. A refusal (an error, then a close) or a
        /// timeout gives null, and <see cref="EndReason"/> says which.</summary>
        public async Task<Welcome> AwaitWelcomeAsync(TimeSpan timeout, CancellationToken stop)
        {
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                limit.CancelAfter(timeout);
                using (limit.Token.Register(() =>
                {
                    if (!stop.IsCancellationRequested)
                        Kill(CloseReason.Lost("connect_timeout", "no welcome within " + timeout.TotalSeconds + " s"));
                }))
                {
                    while (true)
                    {
                        Frame frame = await ReceiveAsync(stop).ConfigureAwait(false);
                        if (frame == null) return null;
                        if (frame.Text == null) continue;
                        JObject message;
                        try
                        {
                            message = Wire.ParseObject(frame.Text);
                        }
                        catch (FormatException)
                        {
                            continue;
                        }
                        string type = Wire.TypeOf(message);
                        if (type == "error") refusal = Wire.ReadError(message);
                        if (type != "welcome") continue;
                        try
                        {
                            return Wire.ReadWelcome(message);
                        }
                        catch (FormatException e)
                        {
                            Kill(new CloseReason(1002, ErrorCodes.UnsupportedServer, "pairlink's welcome could not be read: " + e.Message));
                            return null;
                        }
                    }
                }
            }
        }

        /// <summary>Why the connection ended: the close frame, or what the SDK saw.</summary>
        public CloseReason EndReason()
        {
            if (killedFor != null) return killedFor;
            WebSocketCloseStatus? status = socket.CloseStatus;
            if (!status.HasValue) return CloseReason.Lost(ErrorCodes.ConnectionLost, "the connection ended without a close frame");
            string reason = socket.CloseStatusDescription ?? "";
            string message = "";
            TimeSpan? retryAfter = null;
            if (refusal != null)
            {
                if (reason.Length == 0) reason = refusal.Code;
                message = refusal.Message;
                if (refusal.RetryAfterSeconds.HasValue) retryAfter = TimeSpan.FromSeconds(refusal.RetryAfterSeconds.Value);
            }
            return new CloseReason((int)status.Value, reason, message, retryAfter);
        }

        public Task SendTextAsync(string text, CancellationToken cancellationToken)
        {
            return SendAsync(new ArraySegment<byte>(Encoding.UTF8.GetBytes(text)), WebSocketMessageType.Text, cancellationToken);
        }

        public Task SendBinaryAsync(byte[] data, CancellationToken cancellationToken)
        {
            return SendAsync(new ArraySegment<byte>(data), WebSocketMessageType.Binary, cancellationToken);
        }

        private async Task SendAsync(ArraySegment<byte> data, WebSocketMessageType type, CancellationToken cancellationToken)
        {
            if (data.Count > MaxMessageBytes)
                throw new PairlinkException(ErrorCodes.MessageTooBig,
                    "the message has " + data.Count + " bytes; pairlink accepts at most " + MaxMessageBytes);
            // The caller's token applies while waiting for the socket, never during a write:
            // ClientWebSocket drops the whole connection when a send is cancelled halfway.
            await sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(data, type, true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                MarkEnd(CloseReason.Lost(ErrorCodes.ConnectionLost, Describe(e)));
                socket.Abort();
                throw new PairlinkException(ErrorCodes.ConnectionLost, "the connection dropped while sending: " + Describe(e), e);
            }
            finally
            {
                sendLock.Release();
            }
        }

        /// <summary>Pings every <paramref name="interval"/>; after two unanswered pings the
        /// connection counts as dead and is dropped, which makes the receive loop end.</summary>
        public async Task RunPingsAsync(TimeSpan interval, Func<long> nextId)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(interval, ended.Token).ConfigureAwait(false);
                    if (Volatile.Read(ref missedPongs) >= 2)
                    {
                        Kill(CloseReason.Lost("ping_timeout", "no pong within 2 pings of " + (int)interval.TotalMilliseconds + " ms"));
                        return;
                    }
                    Interlocked.Increment(ref missedPongs);
                    await SendTextAsync(Wire.Ping(nextId()), ended.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The session ended.
            }
            catch (PairlinkException)
            {
                // The send failed: the receive loop sees the same end.
            }
        }

        /// <summary>Drops the connection at once, without a close handshake.</summary>
        public void Kill(CloseReason reason)
        {
            MarkEnd(reason);
            socket.Abort();
        }

        /// <summary>Sends a close frame (within <paramref name="timeout"/>, else drops the
        /// socket). pairlink's answering close then ends the receive loop.</summary>
        public async Task CloseAsync(int code, string reason, TimeSpan timeout)
        {
            MarkEnd(new CloseReason(code, reason));
            try
            {
                using (var limit = new CancellationTokenSource(timeout))
                    await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, limit.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                socket.Abort();
            }
        }

        public void Dispose()
        {
            ended.Cancel();
            socket.Dispose();
        }

        private async Task AnswerCloseAsync()
        {
            if (socket.State != WebSocketState.CloseReceived) return;
            try
            {
                using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", limit.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The server is gone already; its close frame is what counts.
            }
        }

        /// <summary>The first reason the SDK gives for ending the connection wins.</summary>
        private void MarkEnd(CloseReason reason)
        {
            Interlocked.CompareExchange(ref killedFor, reason, null);
        }

        private static string Describe(Exception e)
        {
            return e.InnerException != null ? e.Message + " (" + e.InnerException.Message + ")" : e.Message;
        }
    }
}
