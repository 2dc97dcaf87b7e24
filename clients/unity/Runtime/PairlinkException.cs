// The one exception type the SDK throws for what pairlink or the network answered.

using System;

namespace Pairlink
{
    /// <summary>
    /// A failed pairlink operation. Code against <see cref="Code"/>: it is pairlink's own
    /// error code (<c>no_content</c>, <c>display_offline</c>, <c>queue_full</c>,
    /// <c>expired</c>, <c>rate_limited</c>, <c>replaced</c>, <c>token_expired</c>, …) or one
    /// of the SDK's (<see cref="ErrorCodes"/>). The message is for people and may change.
    /// </summary>
    public class PairlinkException : Exception
    {
        public PairlinkException(string code, string message, Exception inner = null)
            : base(string.IsNullOrEmpty(message) ? code : message, inner)
        {
            Code = code;
        }

        /// <summary>pairlink's or the SDK's error code, e.g. <c>no_content</c>.</summary>
        public string Code { get; }

        /// <summary>The HTTP status, for the pairing-code requests; 0 otherwise.</summary>
        public int HttpStatus { get; internal set; }

        /// <summary>Seconds pairlink asked to wait before trying again (<c>too_many_guesses</c>).</summary>
        public int? RetryAfterSeconds { get; internal set; }

        public override string ToString()
        {
            return "PairlinkException(" + Code + "): " + Message;
        }
    }

    /// <summary>
    /// Error codes the SDK itself reports. pairlink's own codes (see docs/protocol.md) pass
    /// through unchanged.
    /// </summary>
    public static class ErrorCodes
    {
        /// <summary>The connection dropped while the request was in flight. pairlink may or
        /// may not have acted on it; the SDK never sends it again, because a second
        /// difficulty would be a second draw.</summary>
        public const string ConnectionLost = "connection_lost";

        /// <summary>The request was made while the connection was not open.</summary>
        public const string NotConnected = "not_connected";

        /// <summary>The message is larger than the welcome's <c>max_message_bytes</c>; pairlink
        /// would close the connection (1009) for it, so it was not sent.</summary>
        public const string MessageTooBig = "message_too_big";

        /// <summary>The server answered the upgrade without <c>pairlink.v2</c>: it is older
        /// than protocol v2.</summary>
        public const string UnsupportedServer = "unsupported_server";

        /// <summary>This platform has no ClientWebSocket (WebGL).</summary>
        public const string UnsupportedPlatform = "unsupported_platform";

        /// <summary>A failure inside the SDK itself; the message says what happened.</summary>
        public const string InternalError = "internal_error";

        /// <summary>An HTTP request (pairing code, QR code) could not reach pairlink, or
        /// pairlink's answer could not be read.</summary>
        public const string Unreachable = "unreachable";

        /// <summary>An app's event handler threw; the exception is the inner one.</summary>
        public const string HandlerFailed = "handler_failed";

        /// <summary>The message from pairlink could not be read; it was skipped.</summary>
        public const string InvalidMessage = "invalid_message";

        /// <summary>The app closed or disposed the client.</summary>
        public const string Closed = "closed";
    }
}
