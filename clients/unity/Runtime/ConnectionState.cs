// The connection's state, as CLIENT-SDKS.md names it: connecting, open,
// reconnecting(attempt, delay, last reason), closed(reason).

using System;

namespace Pairlink
{
    public enum ConnectionStateKind
    {
        /// <summary>Created; <c>ConnectAsync</c> has not been called yet.</summary>
        Idle,
        /// <summary>The first attempt after <c>ConnectAsync</c> or <c>Resume</c>.</summary>
        Connecting,
        /// <summary>pairlink's welcome arrived: messages flow.</summary>
        Open,
        /// <summary>The connection ended or was refused for a reason worth retrying; the next
        /// attempt starts after <see cref="ConnectionState.Delay"/> and the state stays
        /// Reconnecting until it opens.</summary>
        Reconnecting,
        /// <summary>Given up (a final close) or closed by the app. Nothing more happens
        /// unless the app calls <c>ConnectAsync</c> (or <c>Resume</c> after <c>Pause</c>).</summary>
        Closed,
    }

    /// <summary>An immutable snapshot of the connection's state.</summary>
    public sealed class ConnectionState
    {
        internal static readonly ConnectionState Idle = new ConnectionState(ConnectionStateKind.Idle, 0, TimeSpan.Zero, null);
        internal static readonly ConnectionState Connecting = new ConnectionState(ConnectionStateKind.Connecting, 0, TimeSpan.Zero, null);
        internal static readonly ConnectionState Open = new ConnectionState(ConnectionStateKind.Open, 0, TimeSpan.Zero, null);

        private ConnectionState(ConnectionStateKind kind, int attempt, TimeSpan delay, CloseReason reason)
        {
            Kind = kind;
            Attempt = attempt;
            Delay = delay;
            Reason = reason;
        }

        internal static ConnectionState Reconnecting(int attempt, TimeSpan delay, CloseReason lastReason)
        {
            return new ConnectionState(ConnectionStateKind.Reconnecting, attempt, delay, lastReason);
        }

        internal static ConnectionState Closed(CloseReason reason)
        {
            return new ConnectionState(ConnectionStateKind.Closed, 0, TimeSpan.Zero, reason);
        }

        public ConnectionStateKind Kind { get; }

        /// <summary>Reconnecting: the attempt about to be made (1 for the first retry).</summary>
        public int Attempt { get; }

        /// <summary>Reconnecting: how long the SDK waits before that attempt.</summary>
        public TimeSpan Delay { get; }

        /// <summary>Reconnecting: why the last connection ended or was refused.
        /// Closed: why the SDK stopped. Null otherwise.</summary>
        public CloseReason Reason { get; }

        /// <summary>Same as <see cref="Reason"/>, under the name Reconnecting uses for it.</summary>
        public CloseReason LastReason { get { return Reason; } }

        public bool IsOpen { get { return Kind == ConnectionStateKind.Open; } }

        public override string ToString()
        {
            switch (Kind)
            {
                case ConnectionStateKind.Reconnecting:
                    return "Reconnecting(attempt " + Attempt + ", in " + (int)Delay.TotalMilliseconds + " ms, after " + Reason + ")";
                case ConnectionStateKind.Closed:
                    return "Closed(" + Reason + ")";
                default:
                    return Kind.ToString();
            }
        }
    }

    /// <summary>The arguments of <c>StateChanged</c>: the state before and after.</summary>
    public sealed class StateChangedEventArgs : EventArgs
    {
        public StateChangedEventArgs(ConnectionState previous, ConnectionState current)
        {
            Previous = previous;
            Current = current;
        }

        public ConnectionState Previous { get; }
        public ConnectionState Current { get; }
    }
}
