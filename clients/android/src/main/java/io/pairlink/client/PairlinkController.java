package io.pairlink.client;

import com.google.gson.Gson;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * The phone's side of a pair: sends difficulties, sends and receives relay data, and sees its
 * display come and go. It connects by UUID, or joins with the pairing code a display shows
 * (or the join URL its QR code holds); a join learns the UUID from the welcome and reconnects
 * by UUID once the code is gone.
 *
 * <pre>{@code
 * PairlinkController controller = new PairlinkController.Builder()
 *         .code(scannedQrText)          // "K7M2QX" or "ws://192.168.1.20:8080/ws/join/K7M2QX"
 *         .callbackExecutor(ContextCompat.getMainExecutor(context))
 *         .listener(listener)
 *         .build();
 * controller.connect();
 * }</pre>
 */
public final class PairlinkController extends PairlinkClient {
    private PairlinkController(Connection connection, Gson gson) {
        super(connection, gson);
    }

    /** Builds a controller; nothing connects before {@link #connect()}. */
    public static final class Builder extends PairlinkBuilder<Builder> {
        @Nullable
        private String code;
        private PairlinkListener listener = new PairlinkListener() { };

        @Override
        Builder self() {
            return this;
        }

        /**
         * Joins with a pairing code ({@code K7M2QX}, any case) or a join URL whose last path
         * segment is the code ({@code ws://host:8080/ws/join/K7M2QX}, what the display's QR
         * code holds). A join URL also names the server, so {@code url()} is then optional.
         */
        @NotNull
        public Builder code(@NotNull String codeOrJoinUrl) {
            this.code = codeOrJoinUrl;
            return this;
        }

        /** Receives states, relay data, presence and errors. */
        @NotNull
        public Builder listener(@NotNull PairlinkListener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * @throws IllegalArgumentException when the URL, UUID or code is malformed, or neither
         *     or both of {@code uuid()} and {@code code()} were given
         */
        @NotNull
        public PairlinkController build() {
            Endpoint endpoint = Endpoint.of(url, Role.CONTROLLER, uuid, code);
            return new PairlinkController(connection(Role.CONTROLLER, endpoint, listener),
                    gsonOrDefault());
        }
    }

    /**
     * Asks for a draw at this difficulty. The call resolves to {@link Delivery#RECEIVED} or
     * {@link Delivery#QUEUED}, or fails with {@code no_content}, {@code display_offline},
     * {@code queue_full}, {@code rate_limited}, {@code not_connected} (nothing was sent), or
     * {@code connection_lost} (the answer never came; it is not sent again).
     */
    @NotNull
    public PairlinkCall<Delivery> sendDifficulty(int difficulty) {
        return connection.requests.difficulty(difficulty);
    }
}
