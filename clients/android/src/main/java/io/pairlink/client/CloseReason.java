package io.pairlink.client;

import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * Why a connection ended: the WebSocket close code and a stable reason string. For a
 * refusal ({@code 4400 display_offline}, {@code 4401 token_expired}, ...) the reason is
 * pairlink's error code; for what the SDK saw itself it is one of the constants below.
 */
public final class CloseReason {
    /** The app called {@code close()}. Code 1000. */
    public static final String CLOSED = "closed";
    /** The app called {@code pause()}; {@code resume()} connects again. Code 1000. */
    public static final String PAUSED = "paused";
    /** The socket failed without a close frame (network loss, server gone). Code 1006. */
    public static final String NETWORK = "network";
    /** No pong came back within two app-level pings: the SDK dropped the socket. Code 1006. */
    public static final String PING_TIMEOUT = "ping_timeout";
    /** The server did not accept subprotocol {@code pairlink.v2} (a server too old). Code 1002. */
    public static final String PROTOCOL_UNSUPPORTED = "protocol_unsupported";
    /**
     * Android refused cleartext {@code ws://} to this host (Android 9+ blocks it unless the
     * app's {@code network_security_config} allows it; see the README). Code 1006.
     */
    public static final String CLEARTEXT_NOT_PERMITTED = "cleartext_not_permitted";
    /** The token provider returned null: there is no token to connect with. Code 4401. */
    public static final String NO_TOKEN = "no_token";

    private final int code;
    private final String reason;
    @Nullable
    private final String message;

    CloseReason(int code, @NotNull String reason, @Nullable String message) {
        this.code = code;
        this.reason = reason;
        this.message = message;
    }

    /** The WebSocket close code: the server's (4001, 4400, ...), or 1000/1006/1002 as above. */
    public int code() {
        return code;
    }

    /** pairlink's reason ({@code "replaced"}, {@code "display_offline"}, ...) or a constant above. */
    @NotNull
    public String reason() {
        return reason;
    }

    /** Text for people (the server's error message, the network exception's), if any. */
    @Nullable
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return code + " " + reason + (message != null ? " (" + message + ")" : "");
    }
}
