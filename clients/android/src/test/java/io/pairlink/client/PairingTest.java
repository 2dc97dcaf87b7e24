package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.util.Arrays;
import java.util.Collections;
import okio.ByteString;
import org.junit.jupiter.api.Test;

/** A display and a controller on the real server: draws, errors, relay and presence. */
class PairingTest {
    @Test
    void aDifficultyIsDrawnForTheDisplayAndAnsweredWithItsId() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server).open()) {
            PairlinkCall<Delivery> first = pair.controller.sendDifficulty(1);
            PairlinkCall<Delivery> second = pair.controller.sendDifficulty(2);

            assertEquals(Delivery.RECEIVED, result(first));
            assertEquals(Delivery.RECEIVED, result(second));
            assertNotNull(first.requestId());
            assertNotEquals(first.requestId(), second.requestId());
            Draw draw = pair.displayEvents.await(Draw.class, d -> d.difficulty() == 1);
            assertEquals(3, Arrays.stream(draw.quizIds()).distinct().count());
            assertTrue(draw.actionId() > 0);
            assertEquals(false, draw.held());
            pair.displayEvents.await(Draw.class, d -> d.difficulty() == 2);
        }
    }

    @Test
    void aDifficultyWithoutContentFailsWithItsCode() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server).open()) {
            PairlinkCall<Delivery> call = pair.controller.sendDifficulty(99);

            PairlinkException error = assertThrows(PairlinkException.class, () -> result(call));
            assertEquals(PairlinkException.NO_CONTENT, error.code());
            assertEquals(call.requestId(), error.requestId());
            assertEquals(Delivery.RECEIVED, result(pair.controller.sendDifficulty(3)));
        }
    }

    @Test
    void aDifficultyOverTheRateLimitFailsWithItsCode() throws Exception {
        try (PairlinkServer server = PairlinkServer.start("--rate-limit", "1/1");
                Pair pair = new Pair(server).open()) {
            PairlinkCall<Delivery> first = pair.controller.sendDifficulty(1);
            PairlinkCall<Delivery> second = pair.controller.sendDifficulty(1);

            assertEquals(Delivery.RECEIVED, result(first));
            PairlinkException error = assertThrows(PairlinkException.class, () -> result(second));
            assertEquals(PairlinkException.RATE_LIMITED, error.code());
            assertEquals(second.requestId(), error.requestId());
        }
    }

    @Test
    void aDifficultyBeforeConnectingSendsNothing() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            PairlinkException error = assertThrows(PairlinkException.class,
                    () -> result(pair.controller.sendDifficulty(1)));
            assertEquals(PairlinkException.NOT_CONNECTED, error.code());
        }
    }

    @Test
    void relayDataGoesBothWaysAsJsonAndBinary() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server).open()) {
            assertTrue(pair.controller.relay(JsonParser.parseString("{\"stick\":[0.2,-1]}")));
            assertTrue(pair.display.relay(Collections.singletonMap("score", 120)));
            assertTrue(pair.controller.relay(new byte[] {1, 2, 3}));
            assertTrue(pair.display.relay(ByteString.of((byte) 0, (byte) -1)));
            assertTrue(pair.display.relay("just a string"));

            pair.displayEvents.await(Recorder.Relay.class,
                    r -> r.data().equals(JsonParser.parseString("{\"stick\":[0.2,-1]}")));
            pair.controllerEvents.await(Recorder.Relay.class,
                    r -> r.data().equals(JsonParser.parseString("{\"score\":120}")));
            pair.controllerEvents.await(Recorder.Relay.class,
                    r -> r.data().equals(JsonParser.parseString("\"just a string\"")));
            ByteString toDisplay = pair.displayEvents.await(ByteString.class, b -> true);
            assertArrayEquals(new byte[] {1, 2, 3}, toDisplay.toByteArray());
            ByteString toController = pair.controllerEvents.await(ByteString.class, b -> true);
            assertArrayEquals(new byte[] {0, -1}, toController.toByteArray());
        }
    }

    @Test
    void relayDataWithNobodyToReceiveItIsReportedAsAnError() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            pair.display.connect();
            pair.displayEvents.awaitState(ConnectionState.Kind.OPEN);

            assertTrue(pair.display.relay(Collections.singletonMap("score", 1)));

            pair.displayEvents.await(PairlinkException.class,
                    e -> e.code().equals(PairlinkException.CONTROLLER_OFFLINE));
        }
    }

    @Test
    void eachSideSeesTheOtherComeAndGo() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            pair.display.connect();
            pair.displayEvents.awaitPeer(Role.CONTROLLER, false); // from the welcome
            pair.controller.connect();
            pair.displayEvents.awaitPeer(Role.CONTROLLER, true);
            pair.controllerEvents.awaitPeer(Role.DISPLAY, true); // from the welcome
            assertTrue(pair.controller.isPeerConnected());

            pair.displayEvents.mark();
            pair.controller.close();
            pair.displayEvents.awaitPeer(Role.CONTROLLER, false);

            pair.controllerEvents.mark();
            pair.controller.connect();
            pair.controllerEvents.awaitState(ConnectionState.Kind.OPEN);
            pair.controllerEvents.mark();
            pair.display.pause();
            pair.controllerEvents.awaitPeer(Role.DISPLAY, false);
            pair.display.resume();
            pair.controllerEvents.awaitPeer(Role.DISPLAY, true);
        }
    }
}
