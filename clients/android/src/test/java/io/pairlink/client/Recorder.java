package io.pairlink.client;

import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import okio.ByteString;
import org.jetbrains.annotations.NotNull;

/**
 * A listener that records everything it is told, with the names of the threads it was told
 * on, and lets a test wait for an event. Waits are bounded only so that a broken build
 * fails instead of hanging; no test asserts how long anything took.
 */
class Recorder extends DisplayListener {
    static final long WAIT_SECONDS = 30;

    /** A presence event. */
    record Peer(Role role, boolean connected) { }

    /** A JSON relay event. */
    record Relay(JsonElement data) { }

    private final List<Object> events = new ArrayList<>();
    private int mark;
    final Set<String> threads = ConcurrentHashMap.newKeySet();

    @Override
    public void onStateChanged(@NotNull ConnectionState state) {
        record(state);
    }

    @Override
    public void onDraw(@NotNull Draw draw) {
        record(draw);
    }

    @Override
    public void onRelay(@NotNull JsonElement data) {
        record(new Relay(data));
    }

    @Override
    public void onBinaryRelay(@NotNull ByteString data) {
        record(data);
    }

    @Override
    public void onPeer(@NotNull Role role, boolean connected) {
        record(new Peer(role, connected));
    }

    @Override
    public void onError(@NotNull PairlinkException error) {
        record(error);
    }

    private synchronized void record(Object event) {
        threads.add(Thread.currentThread().getName());
        events.add(event);
        notifyAll();
    }

    /** From now on, waits look only at events that come after this call. */
    synchronized void mark() {
        mark = events.size();
    }

    /** Everything recorded so far, in order. */
    synchronized List<Object> events() {
        return new ArrayList<>(events);
    }

    /** Waits for an event of this type, since the last {@link #mark()}, that matches. */
    synchronized <T> T await(Class<T> type, Predicate<T> matches) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        int seen = mark;
        while (true) {
            for (; seen < events.size(); seen++) {
                Object event = events.get(seen);
                if (type.isInstance(event) && matches.test(type.cast(event))) {
                    return type.cast(event);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return fail("no " + type.getSimpleName() + " as expected; events: " + events);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    ConnectionState awaitState(ConnectionState.Kind kind) throws InterruptedException {
        return await(ConnectionState.class, state -> state.kind() == kind);
    }

    ConnectionState.Reconnecting awaitReconnecting(String reason) throws InterruptedException {
        return await(ConnectionState.Reconnecting.class,
                state -> state.lastReason().reason().equals(reason));
    }

    Peer awaitPeer(Role role, boolean connected) throws InterruptedException {
        return await(Peer.class, peer -> peer.equals(new Peer(role, connected)));
    }

    /** The outcome of a call, waiting for it: the value, or the PairlinkException it failed with. */
    static <T> T result(PairlinkCall<T> call) throws Exception {
        CompletableFuture<T> future = new CompletableFuture<>();
        call.enqueue(new PairlinkCall.Callback<T>() {
            @Override
            public void onSuccess(@NotNull T value) {
                future.complete(value);
            }

            @Override
            public void onFailure(@NotNull PairlinkException error) {
                future.completeExceptionally(error);
            }
        });
        try {
            return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }
}
