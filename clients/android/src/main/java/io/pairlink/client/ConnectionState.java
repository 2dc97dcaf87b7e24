package io.pairlink.client;

import org.jetbrains.annotations.NotNull;

/**
 * Where a display or controller connection stands. Each state is its own class, so Kotlin can
 * write {@code when (state) { is ConnectionState.Reconnecting -> state.attempt() ... }};
 * Java can switch on {@link #kind()}.
 */
public abstract class ConnectionState {
    /** The four states, for a {@code switch}. */
    public enum Kind { CONNECTING, OPEN, RECONNECTING, CLOSED }

    private ConnectionState() {
    }

    /** Which of the four states this is. */
    @NotNull
    public abstract Kind kind();

    /** The first attempt after {@code connect()} or {@code resume()} is under way. */
    public static final class Connecting extends ConnectionState {
        Connecting() {
        }

        @Override
        @NotNull
        public Kind kind() {
            return Kind.CONNECTING;
        }

        @Override
        public String toString() {
            return "CONNECTING";
        }
    }

    /** The server welcomed the connection: requests and relay data can be sent. */
    public static final class Open extends ConnectionState {
        private final Welcome welcome;

        Open(Welcome welcome) {
            this.welcome = welcome;
        }

        @Override
        @NotNull
        public Kind kind() {
            return Kind.OPEN;
        }

        /** What the server said on arrival: the UUID, whether the peer is there, its limits. */
        @NotNull
        public Welcome welcome() {
            return welcome;
        }

        @Override
        public String toString() {
            return "OPEN";
        }
    }

    /** The connection dropped (or never opened) and the SDK tries again after a delay. */
    public static final class Reconnecting extends ConnectionState {
        private final int attempt;
        private final long delayMillis;
        private final CloseReason lastReason;

        Reconnecting(int attempt, long delayMillis, CloseReason lastReason) {
            this.attempt = attempt;
            this.delayMillis = delayMillis;
            this.lastReason = lastReason;
        }

        @Override
        @NotNull
        public Kind kind() {
            return Kind.RECONNECTING;
        }

        /** 1 for the first retry; back to 1 after the connection stayed open for 30 s. */
        public int attempt() {
            return attempt;
        }

        /** How long the SDK waits before this attempt (exponential backoff, full jitter). */
        public long delayMillis() {
            return delayMillis;
        }

        /** Why the previous connection ended or the previous attempt failed. */
        @NotNull
        public CloseReason lastReason() {
            return lastReason;
        }

        @Override
        public String toString() {
            return "RECONNECTING(" + attempt + ", " + delayMillis + " ms, " + lastReason + ")";
        }
    }

    /** Given up (a final close such as 4001 {@code replaced}) or closed by the app. */
    public static final class Closed extends ConnectionState {
        private final CloseReason reason;

        Closed(CloseReason reason) {
            this.reason = reason;
        }

        @Override
        @NotNull
        public Kind kind() {
            return Kind.CLOSED;
        }

        /** Why: {@code replaced}, {@code invalid_uuid}, {@link CloseReason#CLOSED}, ... */
        @NotNull
        public CloseReason reason() {
            return reason;
        }

        @Override
        public String toString() {
            return "CLOSED(" + reason + ")";
        }
    }
}
