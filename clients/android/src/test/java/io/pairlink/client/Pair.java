package io.pairlink.client;

import java.util.UUID;
import java.util.function.UnaryOperator;

/** A display and a controller for one fresh UUID on a test server, each with its recorder. */
final class Pair implements AutoCloseable {
    final String uuid;
    final Recorder displayEvents = new Recorder();
    final Recorder controllerEvents = new Recorder();
    final PairlinkDisplay display;
    final PairlinkController controller;

    Pair(PairlinkServer server) {
        this(server, UnaryOperator.identity(), UnaryOperator.identity());
    }

    Pair(PairlinkServer server, UnaryOperator<PairlinkDisplay.Builder> displayOptions,
            UnaryOperator<PairlinkController.Builder> controllerOptions) {
        this(server, UUID.randomUUID().toString(), displayOptions, controllerOptions);
    }

    Pair(PairlinkServer server, String uuid, UnaryOperator<PairlinkDisplay.Builder> displayOptions,
            UnaryOperator<PairlinkController.Builder> controllerOptions) {
        this.uuid = uuid;
        display = displayOptions.apply(new PairlinkDisplay.Builder().url(server.url()).uuid(uuid)
                .listener(displayEvents)).build();
        controller = controllerOptions.apply(new PairlinkController.Builder().url(server.url())
                .uuid(uuid).listener(controllerEvents)).build();
    }

    /** Connects the display, then the controller, and waits until both are OPEN. */
    Pair open() throws InterruptedException {
        display.connect();
        displayEvents.awaitState(ConnectionState.Kind.OPEN);
        controller.connect();
        controllerEvents.awaitState(ConnectionState.Kind.OPEN);
        return this;
    }

    /** After an outage: waits until both sides are OPEN again and a draw goes through. */
    void awaitBothBackAndDraw(int difficulty) throws Exception {
        displayEvents.awaitState(ConnectionState.Kind.OPEN);
        controllerEvents.awaitState(ConnectionState.Kind.OPEN);
        displayEvents.mark();
        if (Recorder.result(controller.sendDifficulty(difficulty)) != Delivery.RECEIVED) {
            throw new AssertionError("the draw after the outage was not RECEIVED");
        }
        displayEvents.await(Draw.class, d -> d.difficulty() == difficulty);
    }

    @Override
    public void close() {
        controller.close();
        display.close();
    }
}
