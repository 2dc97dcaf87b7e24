package io.pairlink.client;

import static io.pairlink.client.Recorder.result;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jetbrains.annotations.NotNull;
import org.junit.jupiter.api.Test;

/** Callbacks run on the app's executor, and an app callback that throws breaks nothing. */
class ThreadingTest {
    private static final String APP_THREAD = "app-main";

    @Test
    void everyCallbackRunsOnTheSuppliedExecutor() throws Exception {
        ExecutorService main = Executors.newSingleThreadExecutor(r -> new Thread(r, APP_THREAD));
        try (PairlinkServer server = PairlinkServer.start();
                Pair pair = new Pair(server, d -> d.callbackExecutor(main),
                        c -> c.callbackExecutor(main)).open()) {
            Set<String> callThreads = ConcurrentHashMap.newKeySet();
            PairlinkCall<Delivery> call = pair.controller.sendDifficulty(1);
            call.enqueue(new PairlinkCall.Callback<Delivery>() {
                @Override
                public void onSuccess(@NotNull Delivery value) {
                    callThreads.add(Thread.currentThread().getName());
                }

                @Override
                public void onFailure(@NotNull PairlinkException error) {
                    callThreads.add(Thread.currentThread().getName());
                }
            });
            pair.displayEvents.await(Draw.class, d -> true);
            pair.controller.relay(Collections.singletonMap("x", 1));
            pair.displayEvents.await(Recorder.Relay.class, r -> true);
            pair.controller.close();
            pair.displayEvents.awaitPeer(Role.CONTROLLER, false);
            pair.controllerEvents.awaitState(ConnectionState.Kind.CLOSED);
            result(pair.display.requestPairingCode());

            assertEquals(Set.of(APP_THREAD), pair.displayEvents.threads);
            assertEquals(Set.of(APP_THREAD), pair.controllerEvents.threads);
            assertEquals(Set.of(APP_THREAD), callThreads);
        } finally {
            main.shutdown();
        }
    }

    @Test
    void aCallbackThatThrowsIsReportedAndTheConnectionCarriesOn() throws Exception {
        Recorder events = new Recorder() {
            @Override
            public void onPeer(@NotNull Role role, boolean connected) {
                super.onPeer(role, connected);
                throw new IllegalStateException("a bug in the app");
            }
        };
        try (PairlinkServer server = PairlinkServer.start(); Pair pair = new Pair(server)) {
            PairlinkController controller = new PairlinkController.Builder().url(server.url())
                    .uuid(pair.uuid).listener(events).build();
            pair.display.connect();
            pair.displayEvents.awaitState(ConnectionState.Kind.OPEN);
            controller.connect();

            PairlinkException reported = events.await(PairlinkException.class,
                    e -> e.code().equals(PairlinkException.CALLBACK_FAILED));
            assertEquals("a bug in the app", reported.getCause().getMessage());
            events.awaitState(ConnectionState.Kind.OPEN);
            assertEquals(Delivery.RECEIVED, result(controller.sendDifficulty(1)));
            assertEquals(ConnectionState.Kind.OPEN, controller.state().kind());
            controller.close();
        }
    }
}
