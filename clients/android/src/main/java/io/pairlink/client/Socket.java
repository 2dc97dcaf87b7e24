package io.pairlink.client;

import java.io.IOException;
import java.net.UnknownServiceException;
import java.util.concurrent.ScheduledFuture;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okio.ByteString;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * One connection attempt: OkHttp's WebSocket and what the connection knows about it. OkHttp
 * calls the listener methods on its own threads; each one hands the event to the
 * connection's thread, where every other field is read and written.
 */
final class Socket extends WebSocketListener {
    private final Connection owner;
    /** The token this attempt presented, to notice a provider that gives the same one again. */
    @Nullable
    final String token;
    WebSocket webSocket;
    /** OkHttp saw the 101 answer. */
    boolean upgraded;
    /** The server sent its welcome: the connection is OPEN. */
    boolean welcomed;
    /** An error that came before the welcome: the refusal the close code confirms. */
    @Nullable
    PairlinkException refusal;
    /** The refusal's {@code retry_after} (4429), in seconds. */
    long retryAfterSeconds;
    /** App-level pings sent since the last pong. */
    int unansweredPings;
    @Nullable
    ScheduledFuture<?> pinger;

    Socket(Connection owner, @Nullable String token) {
        this.owner = owner;
        this.token = token;
    }

    @Override
    public void onOpen(@NotNull WebSocket ws, @NotNull Response response) {
        String protocol = response.header("Sec-WebSocket-Protocol");
        owner.post(() -> owner.upgraded(this, protocol));
    }

    @Override
    public void onMessage(@NotNull WebSocket ws, @NotNull String text) {
        owner.post(() -> owner.text(this, text));
    }

    @Override
    public void onMessage(@NotNull WebSocket ws, @NotNull ByteString bytes) {
        owner.post(() -> owner.binary(this, bytes));
    }

    /**
     * The server sent its close frame. Answering it at once completes the closing handshake
     * and makes further sends on this socket return false; the connection then decides,
     * from the code, whether to reconnect.
     */
    @Override
    public void onClosing(@NotNull WebSocket ws, int code, @NotNull String reason) {
        ws.close(1000, null);
        owner.post(() -> owner.dropped(this, new CloseReason(code, reason, null)));
    }

    @Override
    public void onClosed(@NotNull WebSocket ws, int code, @NotNull String reason) {
        owner.post(() -> owner.dropped(this, new CloseReason(code, reason, null)));
    }

    /**
     * The socket failed. With an HTTP answer other than 101 it is a refusal before the upgrade,
     * which a server answers v1 clients with: read as 4000 + status, like v2's in-band ones.
     */
    @Override
    public void onFailure(@NotNull WebSocket ws, @NotNull Throwable t, @Nullable Response response) {
        CloseReason reason;
        if (response != null && response.code() != 101) {
            reason = httpRefusal(response);
        } else if (t instanceof UnknownServiceException
                && String.valueOf(t.getMessage()).contains("CLEARTEXT")) {
            // OkHttp's "CLEARTEXT communication to HOST not permitted by network security policy".
            reason = new CloseReason(1006, CloseReason.CLEARTEXT_NOT_PERMITTED, t.getMessage());
        } else {
            reason = new CloseReason(1006, CloseReason.NETWORK, String.valueOf(t));
        }
        owner.post(() -> owner.dropped(this, reason));
    }

    private static CloseReason httpRefusal(Response response) {
        String code = "http_" + response.code();
        String message = response.message();
        try {
            com.google.gson.JsonObject body = Wire.parse(response.peekBody(4096).string());
            if (body != null) {
                PairlinkException error = Wire.error(body);
                if (!PairlinkException.BAD_RESPONSE.equals(error.code())) {
                    code = error.code();
                    message = error.getMessage();
                }
            }
        } catch (IOException | RuntimeException e) {
            message = message + " (" + e + ")";
        }
        return new CloseReason(4000 + response.code(), code, message);
    }
}
