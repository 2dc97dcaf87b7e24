package io.pairlink.client;

import com.google.gson.Gson;
import org.jetbrains.annotations.NotNull;

/**
 * The headset's side of a pair (display apps run on Android too): receives draws, sends and
 * receives relay data, sees its controller come and go, and can ask for a pairing code with
 * its QR code to show a phone.
 *
 * <pre>{@code
 * PairlinkDisplay display = new PairlinkDisplay.Builder()
 *         .url("ws://192.168.1.20:8080")
 *         .uuid(sessionUuid)
 *         .listener(new DisplayListener() {
 *             public void onDraw(Draw draw) { showQuizzes(draw.quizIds(), draw.actionId()); }
 *         })
 *         .build();
 * display.connect();
 * }</pre>
 */
public final class PairlinkDisplay extends PairlinkClient {
    private PairlinkDisplay(Connection connection, Gson gson) {
        super(connection, gson);
    }

    /** Builds a display; nothing connects before {@link #connect()}. */
    public static final class Builder extends PairlinkBuilder<Builder> {
        private DisplayListener listener = new DisplayListener() { };

        @Override
        Builder self() {
            return this;
        }

        /** Receives draws, states, relay data, presence and errors. */
        @NotNull
        public Builder listener(@NotNull DisplayListener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * @throws IllegalArgumentException when the URL or UUID is missing or malformed
         */
        @NotNull
        public PairlinkDisplay build() {
            if (uuid == null) {
                throw new IllegalArgumentException("a display needs uuid()");
            }
            Endpoint endpoint = Endpoint.of(url, Role.DISPLAY, uuid, null);
            return new PairlinkDisplay(connection(Role.DISPLAY, endpoint, listener),
                    gsonOrDefault());
        }
    }

    /**
     * Asks the server for this display's pairing code (the same live code if asked again) and
     * the PNG of its QR code. The display must be connected: otherwise the call fails with
     * {@code display_offline}. Other failures: {@code token_*} (the token is not a display
     * token for this UUID), {@code broker_unavailable}, {@code network}.
     */
    @NotNull
    public PairlinkCall<PairingCode> requestPairingCode() {
        return PairingCodeRequest.start(connection);
    }
}
