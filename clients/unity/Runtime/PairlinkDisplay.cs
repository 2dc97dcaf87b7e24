// The display (a headset): receives draws, relay data and its controller's presence,
// sends relay data, and asks for a pairing code for a phone to join with.

using System;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Pairlink
{
    public sealed class PairlinkDisplay : PairlinkClient
    {
        /// <param name="serverUrl">The server, e.g. <c>ws://192.168.1.20:8080</c> (a path prefix is kept).</param>
        /// <param name="uuid">The pair's UUID. A malformed one is refused by pairlink:
        /// <c>ConnectAsync</c> throws <c>invalid_uuid</c>.</param>
        public PairlinkDisplay(string serverUrl, string uuid, PairlinkOptions options = null)
            : base(Endpoints.WebSocketBase(serverUrl), Endpoints.CheckUuid(uuid, nameof(uuid)), options)
        {
        }

        /// <summary>A draw for this display: live, or held while it was away (<see cref="Draw.Held"/>).</summary>
        public event EventHandler<Draw> DrawReceived;

        public override string Role { get { return "display"; } }

        /// <summary>Asks pairlink for this display's pairing code (the same live code each
        /// time) and its QR code as PNG. The display must be connected: otherwise pairlink
        /// answers <c>display_offline</c>. Other codes: <c>invalid_uuid</c>, <c>token_*</c>,
        /// <c>broker_unavailable</c>, and <c>unreachable</c> when the request failed.</summary>
        public Task<PairingCode> GetPairingCodeAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return PairingCodes.RequestAsync(Endpoints.HttpBase(serverBase), Uuid, options, cancellationToken);
        }

        internal override Uri Endpoint()
        {
            return Endpoints.Display(serverBase, Uuid);
        }

        internal override bool HandleMessage(string type, JObject message, Session session)
        {
            if (type != "draw") return false;
            Draw draw = Wire.ReadDraw(message);
            Post(() => { EventHandler<Draw> h = DrawReceived; if (h != null) h(this, draw); });
            return true;
        }
    }
}
