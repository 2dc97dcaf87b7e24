package io.pairlink.client;

import com.google.gson.JsonElement;
import okio.ByteString;
import org.jetbrains.annotations.NotNull;

/**
 * What a connection tells the app, in the style of OkHttp's {@code WebSocketListener}:
 * override what you need. Every method runs on the builder's {@code callbackExecutor}, in
 * the order things happened. An exception thrown here is caught and passed to
 * {@link #onError}; it never closes the connection.
 */
public abstract class PairlinkListener {
    /** The state changed; the same state is also {@code state()} from now on. */
    public void onStateChanged(@NotNull ConnectionState state) {
    }

    /**
     * Relay data from the other side: any JSON value (object, array, string, number, boolean
     * or null). Read it with {@code gson.fromJson(data, MyInput.class)}.
     */
    public void onRelay(@NotNull JsonElement data) {
    }

    /** A binary relay frame from the other side, as sent. */
    public void onBinaryRelay(@NotNull ByteString data) {
    }

    /**
     * The other side connected ({@code true}, also when a newer device replaced it) or left.
     * Also called on every welcome with what the server said then.
     */
    public void onPeer(@NotNull Role role, boolean connected) {
    }

    /**
     * Something went wrong that belongs to no call: relay data the peer was not there for
     * ({@code display_offline}, {@code controller_offline}), a held draw that
     * {@code expired}, a token provider that threw, or an app callback that threw
     * ({@code callback_failed}).
     */
    public void onError(@NotNull PairlinkException error) {
    }
}
