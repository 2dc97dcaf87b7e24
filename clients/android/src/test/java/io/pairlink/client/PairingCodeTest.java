package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A display shows a pairing code and its QR code; a phone joins with either. */
class PairingCodeTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

    /** Builds, connects and waits until OPEN. */
    private static PairlinkController joined(PairlinkController.Builder builder) throws Exception {
        return joined(builder, new Recorder());
    }

    private static PairlinkController joined(PairlinkController.Builder builder, Recorder events)
            throws Exception {
        PairlinkController phone = builder.listener(events).build();
        phone.connect();
        events.awaitState(ConnectionState.Kind.OPEN);
        return phone;
    }

    /** Connects the pair's display and asks for its code. */
    private static PairingCode codeOf(Pair pair) throws Exception {
        pair.display.connect();
        pair.displayEvents.awaitState(ConnectionState.Kind.OPEN);
        return result(pair.display.requestPairingCode());
    }

    @Test
    void aControllerJoinsWithTheJoinUrlOfTheQrCodeAndLearnsTheUuid() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            PairingCode code = codeOf(pair);
            assertEquals(6, code.code().length());
            assertEquals(pair.uuid, code.uuid());
            assertTrue(code.joinUrl().endsWith("/ws/join/" + code.code()), code.joinUrl());
            assertArrayEquals(PNG_MAGIC, Arrays.copyOf(code.qrPng(), 4));

            // The join URL names the server: no url().
            PairlinkController phone = joined(new PairlinkController.Builder().code(code.joinUrl()));
            assertEquals(pair.uuid, phone.uuid());
            assertEquals(Delivery.RECEIVED, result(phone.sendDifficulty(2)));
            pair.displayEvents.await(Draw.class, d -> d.difficulty() == 2);
            phone.close();
        }
    }

    @Test
    void aTypedCodeInLowerCaseJoinsToo() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            String typed = codeOf(pair).code().toLowerCase();

            PairlinkController phone = joined(new PairlinkController.Builder().url(server.url())
                    .code(typed));
            assertEquals(pair.uuid, phone.uuid());
            phone.close();
        }
    }

    @Test
    void onceTheCodeIsGoneTheControllerReconnectsByUuid() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            Recorder events = new Recorder();
            PairlinkController phone = joined(
                    new PairlinkController.Builder().code(codeOf(pair).joinUrl()), events);
            events.mark();

            server.restart(); // codes live in the server's memory: this one is gone

            events.awaitReconnecting("unknown_code");
            events.awaitState(ConnectionState.Kind.OPEN);
            assertEquals(Delivery.RECEIVED, result(phone.sendDifficulty(3)));
            phone.close();
        }
    }

    @Test
    void anUnknownCodeIsFinal() throws Exception {
        try (PairlinkServer server = PairlinkServer.start()) {
            Recorder events = new Recorder();
            PairlinkController phone = new PairlinkController.Builder().url(server.url())
                    .code("ZZZZZZ").listener(events).build();
            phone.connect();

            ConnectionState.Closed closed = events.await(ConnectionState.Closed.class, c -> true);
            assertEquals(4404, closed.reason().code());
            assertEquals("unknown_code", closed.reason().reason());
        }
    }

    @Test
    void tooManyGuessesWaitsAtLeastTheRetryAfter() throws Exception {
        try (PairlinkServer server = PairlinkServer.start("--code-guesses", "1/1m")) {
            Recorder first = new Recorder();
            PairlinkController guess = new PairlinkController.Builder().url(server.url())
                    .code("ZZZZZZ").listener(first).build();
            guess.connect();
            first.await(ConnectionState.Closed.class, c -> c.reason().code() == 4404);

            Recorder second = new Recorder();
            PairlinkController again = new PairlinkController.Builder().url(server.url())
                    .code("YYYYYY").listener(second).build();
            again.connect();

            ConnectionState.Reconnecting waiting = second.awaitReconnecting("too_many_guesses");
            assertEquals(4429, waiting.lastReason().code());
            // retry_after is whole seconds (at least 1); backoff alone would wait at most 0.5 s.
            assertTrue(waiting.delayMillis() >= 1_000, waiting.toString());
            again.close();
        }
    }

    @Test
    void aDisplayThatIsNotConnectedGetsNoCode() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            PairlinkException error = assertThrows(PairlinkException.class,
                    () -> result(pair.display.requestPairingCode()));
            assertEquals(PairlinkException.DISPLAY_OFFLINE, error.code());
        }
    }
}
