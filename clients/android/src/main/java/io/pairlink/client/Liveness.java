package io.pairlink.client;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * App-level pings, because TCP can take minutes to notice that a server froze or a network
 * went quiet. One {@code {"type":"ping"}} per interval, the same liveness check every
 * pairlink SDK makes (browsers cannot send WebSocket pings); two unanswered ones mean the
 * socket is dead.
 */
final class Liveness {
    /** Pings sent without a pong that count the socket as dead. */
    static final int UNANSWERED_LIMIT = 2;

    private Liveness() {
    }

    /**
     * (Re)starts pinging this socket on the connection's thread. Cancelling
     * {@link Socket#pinger} on that thread stops it for good, so no tick outlives its socket.
     */
    static void start(ScheduledExecutorService loop, Socket socket, long intervalMillis,
            Requests ids, Runnable whenDead) {
        if (socket.pinger != null) {
            socket.pinger.cancel(false);
        }
        socket.pinger = loop.scheduleWithFixedDelay(Threads.guarded(() -> {
            if (socket.unansweredPings >= UNANSWERED_LIMIT) {
                socket.webSocket.cancel();
                whenDead.run();
                return;
            }
            socket.unansweredPings++;
            socket.webSocket.send(Wire.ping(ids.nextId()));
        }), intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }
}
