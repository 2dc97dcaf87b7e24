package io.pairlink.client;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import okio.ByteString;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * What a {@link PairlinkController} and a {@link PairlinkDisplay} both do: connect and stay
 * connected, pause and resume with the app, and relay data to the other side. Every method
 * returns at once and may be called from any thread.
 */
public abstract class PairlinkClient {
    final Connection connection;
    private final Gson gson;

    PairlinkClient(Connection connection, Gson gson) {
        this.connection = connection;
        this.gson = gson;
    }

    /** Connects, and keeps reconnecting until {@link #close()} or a final close. */
    public void connect() {
        connection.connect();
    }

    /**
     * Leaves for good (close 1000): the peer is told at once, and calls waiting for an answer
     * fail with {@code connection_lost}. {@link #connect()} starts again.
     */
    public void close() {
        connection.close();
    }

    /**
     * For {@code onStop}: leaves like {@link #close()} (state {@code CLOSED(paused)}), and
     * {@link #resume()} comes back. A paused app holds no socket and no thread.
     */
    public void pause() {
        connection.pause();
    }

    /** For {@code onStart}: connects again after {@link #pause()}; otherwise does nothing. */
    public void resume() {
        connection.resume();
    }

    /** The state now; {@code onStateChanged} reports each change. */
    @NotNull
    public ConnectionState state() {
        return connection.state();
    }

    /**
     * The pair's UUID: the one given, or, for a controller that joined with a code, the one its
     * first welcome gave (null until then).
     */
    @Nullable
    public String uuid() {
        return connection.uuid();
    }

    /** Whether the other side is connected, as far as this open connection knows. */
    public boolean isPeerConnected() {
        return connection.peerConnected();
    }

    /**
     * Sends JSON relay data to the other side, in order with everything else this object
     * sends. No answer on success; if the other side is absent the data is dropped and
     * {@code onError} gets {@code display_offline} or {@code controller_offline}.
     *
     * @return false when the connection is not open: nothing was sent
     */
    public boolean relay(@NotNull JsonElement data) {
        return connection.requests.relay(data);
    }

    /** Sends any value as JSON relay data, converted with the builder's Gson. */
    public boolean relay(@Nullable Object data) {
        return relay(gson.toJsonTree(data));
    }

    /** Sends a binary relay frame to the other side. */
    public boolean relay(@NotNull byte[] data) {
        return relay(ByteString.of(data));
    }

    /** Sends a binary relay frame to the other side. */
    public boolean relay(@NotNull ByteString data) {
        return connection.requests.relay(data);
    }
}
