// Why a connection ended, and what the SDK does next: the table of docs/protocol.md
// ("Close codes: what a client should do") in one place.

using System;

namespace Pairlink
{
    /// <summary>What the SDK does after a connection ended.</summary>
    internal enum ReconnectRule
    {
        /// <summary>Give up and report <c>Closed(reason)</c>.</summary>
        Final,
        /// <summary>Reconnect after the backoff delay (at least <see cref="CloseReason.RetryAfter"/>).</summary>
        Backoff,
        /// <summary>Reconnect at once (1012).</summary>
        AtOnce,
        /// <summary>Reconnect only with a fresh token from the provider (4401).</summary>
        FreshToken,
    }

    /// <summary>
    /// Why a connection ended or was refused: the WebSocket close code, pairlink's reason
    /// (its error code for refusals, e.g. <c>display_offline</c>, <c>replaced</c>) and a
    /// human message.
    /// </summary>
    public sealed class CloseReason
    {
        /// <summary>No close frame came: the network failed, the server vanished, or no pong came back.</summary>
        public const int Abnormal = 1006;

        public CloseReason(int code, string reason, string message = null, TimeSpan? retryAfter = null)
        {
            Code = code;
            Reason = reason ?? "";
            Message = message ?? "";
            RetryAfter = retryAfter;
        }

        /// <summary>The close code: 1000–1013 from RFC 6455, 4000–4999 from pairlink
        /// (4001 replaced, 4400 + HTTP status for refusals), 1006 when no close frame came.</summary>
        public int Code { get; }

        /// <summary>The machine-readable reason: pairlink's close reason or refusal code
        /// (<c>replaced</c>, <c>display_offline</c>, <c>token_expired</c>, <c>going away</c>), or the
        /// SDK's (<c>connection_lost</c>, <c>connect_timeout</c>, <c>ping_timeout</c>, <c>closed</c>,
        /// <c>paused</c>, <c>unsupported_server</c>, <c>token_unavailable</c>).</summary>
        public string Reason { get; }

        /// <summary>For people; may change.</summary>
        public string Message { get; }

        /// <summary>How long pairlink asked to wait (4429 <c>too_many_guesses</c>).</summary>
        public TimeSpan? RetryAfter { get; }

        internal static CloseReason ClosedByApp()
        {
            return new CloseReason(1000, ErrorCodes.Closed, "the app closed the connection");
        }

        internal const string PausedReason = "paused";

        internal static CloseReason Paused()
        {
            return new CloseReason(1000, PausedReason, "paused by the app (Pause); Resume reconnects");
        }

        internal static CloseReason Lost(string reason, string message)
        {
            return new CloseReason(Abnormal, reason, message);
        }

        /// <summary>The exception that reports this reason to an awaiting caller.</summary>
        internal PairlinkException ToException()
        {
            var e = new PairlinkException(Reason, Message.Length > 0 ? Message : Reason + " (" + Code + ")");
            if (RetryAfter.HasValue) e.RetryAfterSeconds = (int)RetryAfter.Value.TotalSeconds;
            return e;
        }

        /// <summary>
        /// Final closes: 4001, 4400 other than <c>display_offline</c>, 4403, 4404, 1009 and
        /// a server that does not speak v2. 4401 needs a fresh token; 1012 comes back at once;
        /// everything else (1001, 1006, 1011, 1013, 4002, 4429, 4503, a controller's 4400
        /// <c>display_offline</c>, codes pairlink may add later) backs off and retries.
        /// </summary>
        internal ReconnectRule Rule
        {
            get
            {
                if (Reason == ErrorCodes.UnsupportedServer || Reason == ErrorCodes.UnsupportedPlatform || Reason == ErrorCodes.InternalError)
                    return ReconnectRule.Final;
                switch (Code)
                {
                    case 1009:
                    case 4001:
                    case 4403:
                    case 4404:
                        return ReconnectRule.Final;
                    case 4400:
                        return Reason == "display_offline" ? ReconnectRule.Backoff : ReconnectRule.Final;
                    case 4401:
                        return ReconnectRule.FreshToken;
                    case 1012:
                        return ReconnectRule.AtOnce;
                    default:
                        return ReconnectRule.Backoff;
                }
            }
        }

        public override string ToString()
        {
            return Code + " " + Reason + (Message.Length > 0 ? ": " + Message : "");
        }
    }
}
