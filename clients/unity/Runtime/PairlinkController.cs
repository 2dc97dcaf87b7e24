// The controller (a phone): sends difficulties and gets each one's answer as a Task,
// sends and receives relay data, and sees its display's presence. It connects by UUID,
// or joins with a pairing code and then reconnects by the UUID the welcome gave it,
// since the code ends when its display disconnects.

using System;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    public sealed class PairlinkController : PairlinkClient
    {
        private readonly string code;

        /// <summary>A controller for the pair with this UUID.</summary>
        public PairlinkController(string serverUrl, string uuid, PairlinkOptions options = null)
            : base(Endpoints.WebSocketBase(serverUrl), Endpoints.CheckUuid(uuid, nameof(uuid)), options)
        {
        }

        private PairlinkController(Uri serverBase, string code, PairlinkOptions options)
            : base(serverBase, null, options)
        {
            this.code = code;
        }

        /// <summary>A controller that joins with the pairing code its display shows.
        /// An unknown or ended code closes it with <c>unknown_code</c>.</summary>
        public static PairlinkController Join(string serverUrl, string code, PairlinkOptions options = null)
        {
            return new PairlinkController(Endpoints.WebSocketBase(serverUrl), Endpoints.CheckCode(code, nameof(code)), options);
        }

        /// <summary>A controller that joins with a join URL, as scanned from the display's QR code
        /// (<c>ws://HOST:8080/ws/join/K7M2QX</c>).</summary>
        public static PairlinkController FromJoinUrl(string joinUrl, PairlinkOptions options = null)
        {
            Uri serverBase;
            string joinCode;
            Endpoints.ParseJoinUrl(joinUrl, out serverBase, out joinCode);
            return new PairlinkController(serverBase, joinCode, options);
        }

        /// <summary>A draw answered <see cref="DrawStatus.Queued"/> expired before its display came back.</summary>
        public event EventHandler<ExpiredDraw> DrawExpired;

        public override string Role { get { return "controller"; } }

        /// <summary>The pairing code this controller joined with, or null.</summary>
        public string Code { get { return code; } }

        /// <summary>Asks for a draw at this difficulty. Resolves to Received or Queued, or
        /// throws a <see cref="PairlinkException"/> whose Code is pairlink's (<c>no_content</c>,
        /// <c>display_offline</c>, <c>queue_full</c>, <c>rate_limited</c>, …), or
        /// <c>connection_lost</c> when the connection dropped first (the SDK never sends it
        /// again), or <c>not_connected</c>. Cancelling stops the wait, not the draw.</summary>
        public async Task<DrawStatus> SendDifficultyAsync(long difficulty, CancellationToken cancellationToken = default(CancellationToken))
        {
            Session session = Connection.OpenSession();
            long id = Connection.NextId();
            Task<DrawStatus> answer = session.Pending.Add(id, difficulty);
            try
            {
                await session.SendTextAsync(Wire.Difficulty(difficulty, id), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception)
            {
                session.Pending.Forget(id);
                throw;
            }
            if (cancellationToken.CanBeCanceled)
            {
                var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (cancellationToken.Register(() => cancelled.TrySetResult(true)))
                {
                    if (await Task.WhenAny(answer, cancelled.Task).ConfigureAwait(false) != answer)
                    {
                        session.Pending.Forget(id);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
            }
            return await answer.ConfigureAwait(false);
        }

        internal override Uri Endpoint()
        {
            // After the first welcome the UUID is known: the code may have ended by now.
            string uuid = Uuid;
            return uuid != null ? Endpoints.Controller(serverBase, uuid) : Endpoints.Join(serverBase, code);
        }

        internal override bool HandleMessage(string type, JObject message, Session session)
        {
            if (type != "ack") return false;
            long? id = Wire.IdOf(message);
            if (!id.HasValue) return true;
            string status = message.Value<string>("status");
            if (status == "received") session.Pending.Acknowledge(id.Value, DrawStatus.Received);
            else if (status == "queued") session.Pending.Acknowledge(id.Value, DrawStatus.Queued);
            else session.Pending.Fail(id.Value, new PairlinkException(ErrorCodes.InvalidMessage, "an ack with status '" + status + "'"));
            return true;
        }

        internal override bool HandleError(PairlinkException error, long? id, Session session)
        {
            if (!id.HasValue) return false;
            if (session.Pending.Fail(id.Value, error)) return true;
            long difficulty;
            if (error.Code != "expired" || !session.Pending.TakeQueued(id.Value, out difficulty)) return false;
            var expired = new ExpiredDraw(difficulty, error.Message);
            Post(() => { EventHandler<ExpiredDraw> h = DrawExpired; if (h != null) h(this, expired); });
            return true;
        }
    }
}
