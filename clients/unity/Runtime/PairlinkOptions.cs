// Settings shared by displays and controllers. The defaults are those of CLIENT-SDKS.md;
// tests and apps with special needs change them.

using System;
using System.Threading;
using System.Threading.Tasks;

namespace Pairlink
{
    public sealed class PairlinkOptions
    {
        /// <summary>A connection token (a JWT from the game's backend) for servers started with
        /// <c>--auth-secret</c>. Sent as <c>Authorization: Bearer</c>. Set this or
        /// <see cref="TokenProvider"/>, not both.</summary>
        public string Token { get; set; }

        /// <summary>Called before every connect and after a 4401, so that the app can fetch a
        /// fresh token from its backend. Returning null or empty after a 4401, throwing then,
        /// or a second 4401 in a row ends the connection with <c>Closed(token_…)</c>.</summary>
        public Func<CancellationToken, Task<string>> TokenProvider { get; set; }

        /// <summary>How often the SDK sends an app-level ping (10 s). Capped at a third of the
        /// welcome's <c>idle_timeout_ms</c>. No pong within two pings counts the connection dead.</summary>
        public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>How long one attempt may take, from the TCP connect to pairlink's welcome (10 s).</summary>
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>The first reconnect waits up to this long (0.5 s); each further attempt doubles it.</summary>
        public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

        /// <summary>No reconnect waits longer than this (30 s).</summary>
        public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>A connection that stayed open this long (30 s) starts the attempt count again.</summary>
        public TimeSpan BackoffResetAfter { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>How long a close waits for pairlink's close frame (2 s) before dropping the socket.</summary>
        public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);

        internal PairlinkOptions Checked()
        {
            if (Token != null && TokenProvider != null)
                throw new ArgumentException("set Token or TokenProvider, not both");
            Positive(PingInterval, nameof(PingInterval));
            Positive(ConnectTimeout, nameof(ConnectTimeout));
            Positive(ReconnectBaseDelay, nameof(ReconnectBaseDelay));
            Positive(CloseTimeout, nameof(CloseTimeout));
            if (ReconnectMaxDelay < ReconnectBaseDelay)
                throw new ArgumentOutOfRangeException(nameof(ReconnectMaxDelay), "must be at least ReconnectBaseDelay");
            if (BackoffResetAfter < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(BackoffResetAfter), "must not be negative");
            return (PairlinkOptions)MemberwiseClone();
        }

        /// <summary>The token for the next connect or request: the provider's, or the static one.</summary>
        internal Task<string> NextTokenAsync(CancellationToken cancellationToken)
        {
            if (TokenProvider == null) return Task.FromResult(Token);
            Task<string> token = TokenProvider(cancellationToken);
            if (token == null) throw new InvalidOperationException("the TokenProvider returned no Task");
            return token;
        }

        private static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, "must be positive");
        }
    }
}
