package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The server goes away (restart) or freezes (SIGSTOP): both sides recover by themselves. */
class ServerOutageTest {
    @Test
    void bothSidesReconnectAfterAServerRestart() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server).open()) {
            pair.displayEvents.mark();
            pair.controllerEvents.mark();

            server.restart();

            pair.displayEvents.awaitState(ConnectionState.Kind.RECONNECTING);
            pair.controllerEvents.awaitState(ConnectionState.Kind.RECONNECTING);
            pair.awaitBothBackAndDraw(4);
        }
    }

    @Test
    void aFrozenServerIsNoticedByPingsAndBothSidesComeBackAfterIt() throws Exception {
        try (PairlinkServer server = PairlinkServer.start();
                Pair pair = new Pair(server,
                        d -> d.pingInterval(300, TimeUnit.MILLISECONDS),
                        c -> c.pingInterval(300, TimeUnit.MILLISECONDS)).open()) {
            pair.displayEvents.mark();
            pair.controllerEvents.mark();

            server.freeze();
            PairlinkCall<Delivery> unanswered = pair.controller.sendDifficulty(5);
            pair.displayEvents.awaitReconnecting(CloseReason.PING_TIMEOUT);
            pair.controllerEvents.awaitReconnecting(CloseReason.PING_TIMEOUT);
            PairlinkException lost = assertThrows(PairlinkException.class, () -> result(unanswered));
            assertEquals(PairlinkException.CONNECTION_LOST, lost.code());
            server.thaw();

            pair.awaitBothBackAndDraw(5);
        }
    }

    @Test
    void aControllerStartedBeforeItsDisplayWaitsForIt() throws Exception {
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            pair.controller.connect();
            ConnectionState.Reconnecting waiting =
                    pair.controllerEvents.awaitReconnecting(PairlinkException.DISPLAY_OFFLINE);
            assertEquals(4400, waiting.lastReason().code());

            pair.display.connect();

            pair.controllerEvents.awaitState(ConnectionState.Kind.OPEN);
            assertEquals(Delivery.RECEIVED, result(pair.controller.sendDifficulty(1)));
        }
    }
}
