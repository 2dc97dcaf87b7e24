package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A server with {@code --auth-secret}: tokens from a provider, renewed after a 4401. */
class TokenTest {
    private static final long PAST = -3600; // well beyond the server's 30 s of clock leeway
    private static final long HOUR = 3600;

    private final String uuid = UUID.randomUUID().toString();

    @Test
    void anExpiredTokenIsReplacedByAFreshOneFromTheProvider() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        String displayToken = Jwt.hs256("display:" + uuid, HOUR);
        try (PairlinkServer server = PairlinkServer.start("--auth-secret", Jwt.SECRET);
                Pair pair = new Pair(server, uuid, d -> d.token(displayToken),
                        c -> c.tokenProvider(() -> Jwt.hs256("controller:" + uuid,
                                asked.incrementAndGet() == 1 ? PAST : HOUR)))) {
            pair.display.connect();
            pair.displayEvents.awaitState(ConnectionState.Kind.OPEN);
            pair.controller.connect();

            ConnectionState.Reconnecting refused =
                    pair.controllerEvents.awaitReconnecting("token_expired");
            assertEquals(4401, refused.lastReason().code());
            pair.controllerEvents.awaitState(ConnectionState.Kind.OPEN);
            assertTrue(asked.get() >= 2, "the provider was asked " + asked.get() + " times");
            assertEquals(Delivery.RECEIVED, result(pair.controller.sendDifficulty(1)));
        }
    }

    @Test
    void thePairingCodeRequestPresentsTheDisplaysToken() throws Exception {
        try (PairlinkServer server = PairlinkServer.start("--auth-secret", Jwt.SECRET);
                Pair pair = new Pair(server, uuid,
                        d -> d.tokenProvider(() -> Jwt.hs256("display:" + uuid, HOUR)), c -> c)) {
            pair.display.connect();
            pair.displayEvents.awaitState(ConnectionState.Kind.OPEN);

            assertEquals(uuid, result(pair.display.requestPairingCode()).uuid());
        }
    }

    @Test
    void anExpiredStaticTokenIsFinal() throws Exception {
        String expired = Jwt.hs256("display:" + uuid, PAST);
        try (PairlinkServer server = PairlinkServer.start("--auth-secret", Jwt.SECRET);
                Pair pair = new Pair(server, uuid, d -> d.token(expired), c -> c)) {
            pair.display.connect();

            ConnectionState.Closed closed = pair.displayEvents.await(
                    ConnectionState.Closed.class, c -> c.reason().code() == 4401);
            assertEquals("token_expired", closed.reason().reason());
        }
    }

    @Test
    void aProviderWithNothingFresherEndsTheConnection() throws Exception {
        String forAnotherPair = Jwt.hs256("display:" + UUID.randomUUID(), HOUR);
        try (PairlinkServer server = PairlinkServer.start("--auth-secret", Jwt.SECRET);
                Pair pair = new Pair(server, uuid, d -> d.tokenProvider(() -> forAnotherPair),
                        c -> c)) {
            pair.display.connect();

            pair.displayEvents.awaitReconnecting("token_invalid");
            ConnectionState.Closed closed = pair.displayEvents.await(
                    ConnectionState.Closed.class, c -> c.reason().code() == 4401);
            assertEquals("token_invalid", closed.reason().reason());
        }
    }

    @Test
    void aProviderWithNoTokenEndsTheConnection() throws Exception {
        try (PairlinkServer server = PairlinkServer.start("--auth-secret", Jwt.SECRET);
                Pair pair = new Pair(server, uuid, d -> d.tokenProvider(() -> null), c -> c)) {
            pair.display.connect();

            ConnectionState.Closed closed = pair.displayEvents.await(
                    ConnectionState.Closed.class, c -> c.reason().code() == 4401);
            assertEquals(CloseReason.NO_TOKEN, closed.reason().reason());
        }
    }
}
