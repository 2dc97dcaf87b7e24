package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@code --hold-for}: a draw for an absent display waits for it. */
class HeldDrawTest {
    @Test
    void aDrawForAnAbsentDisplayIsQueuedAndDeliveredWhenItComesBack() throws Exception {
        try (PairlinkServer server = PairlinkServer.start("--hold-for", "60s");
                Pair pair = new Pair(server).open()) {
            pair.controllerEvents.mark();
            pair.display.pause();
            pair.controllerEvents.awaitPeer(Role.DISPLAY, false);

            assertEquals(Delivery.QUEUED, result(pair.controller.sendDifficulty(2)));

            pair.displayEvents.mark();
            pair.display.resume();
            Draw draw = pair.displayEvents.await(Draw.class, Draw::held);
            assertEquals(2, draw.difficulty());
            assertNotNull(draw.sentAt());
            assertEquals(3, draw.quizIds().length);
        }
    }

    @Test
    void aHeldDrawThatExpiresIsReportedWithItsRequestId() throws Exception {
        try (PairlinkServer server = PairlinkServer.start("--hold-for", "1s", "--hold-max", "1");
                Pair pair = new Pair(server).open()) {
            pair.controllerEvents.mark();
            pair.display.pause();
            pair.controllerEvents.awaitPeer(Role.DISPLAY, false);

            PairlinkCall<Delivery> held = pair.controller.sendDifficulty(1);
            assertEquals(Delivery.QUEUED, result(held));
            PairlinkException full = assertThrows(PairlinkException.class,
                    () -> result(pair.controller.sendDifficulty(1)));
            assertEquals(PairlinkException.QUEUE_FULL, full.code());

            PairlinkException expired = pair.controllerEvents.await(PairlinkException.class,
                    e -> e.code().equals(PairlinkException.EXPIRED));
            assertEquals(held.requestId(), expired.requestId());
        }
    }
}
