package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** 4001: a newer device took the role; the older one gives up instead of taking it back. */
class ReplacedTest {
    @Test
    void aReplacedControllerEndsClosedAndDoesNotReconnect() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server).open()) {
            Recorder newerEvents = new Recorder();
            PairlinkController newer = new PairlinkController.Builder().url(server.url())
                    .uuid(pair.uuid).listener(newerEvents).build();
            newer.connect();
            newerEvents.awaitState(ConnectionState.Kind.OPEN);

            ConnectionState.Closed closed = pair.controllerEvents.await(
                    ConnectionState.Closed.class, c -> true);
            assertEquals(4001, closed.reason().code());
            assertEquals("replaced", closed.reason().reason());

            // Long enough for several first retries (at most 0.5 s each) had there been any.
            assertEquals(Delivery.RECEIVED, result(newer.sendDifficulty(1)));
            Thread.sleep(2_000);
            assertEquals(Delivery.RECEIVED, result(newer.sendDifficulty(1)));
            List<Object> events = pair.controllerEvents.events();
            Object last = events.stream().filter(e -> e instanceof ConnectionState)
                    .reduce((a, b) -> b).orElseThrow();
            assertEquals(closed, last, "states after CLOSED(replaced): " + events);
            assertEquals(ConnectionState.Kind.OPEN, newer.state().kind());
            newer.close();
        }
    }
}
