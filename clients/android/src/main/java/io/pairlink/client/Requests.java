package io.pairlink.client;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import okio.ByteString;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * What the app sends, and the difficulties waiting for their answer. Sends happen on the
 * app's thread, straight into OkHttp's send queue, which never blocks; so a relay frame and a
 * difficulty leave in the order the app made them. Ids are the SDK's, one counter per
 * connection object, so an answer can never be matched to a request of an older socket.
 *
 * <p>A request in flight when its socket ends fails with {@code connection_lost} and is not
 * sent again: a second difficulty would be a second draw.
 */
final class Requests {
    private final Callbacks callbacks;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, PairlinkCall<Delivery>> pending = new ConcurrentHashMap<>();
    /** The welcomed socket, or null while not OPEN. */
    @Nullable
    private volatile Socket open;

    Requests(Callbacks callbacks) {
        this.callbacks = callbacks;
    }

    long nextId() {
        return ids.incrementAndGet();
    }

    /** The connection is OPEN on this socket: sends may go. */
    void opened(Socket socket) {
        open = socket;
    }

    /**
     * This socket ended. Clears {@link #open} first, then fails what waits: a send racing with
     * this either sees the socket gone and fails its own call, or was registered before and
     * is failed here.
     */
    void closed(Socket socket) {
        if (open == socket) {
            open = null;
        }
        for (Iterator<PairlinkCall<Delivery>> it = pending.values().iterator(); it.hasNext(); ) {
            PairlinkCall<Delivery> call = it.next();
            it.remove();
            call.fail(lost(call.requestId()));
        }
    }

    @NotNull
    PairlinkCall<Delivery> difficulty(int difficulty) {
        long id = nextId();
        PairlinkCall<Delivery> call = new PairlinkCall<>(callbacks, id);
        Socket socket = open;
        if (socket == null) {
            call.fail(notConnected(id));
            return call;
        }
        pending.put(id, call);
        call.onCancel(() -> pending.remove(id));
        if (!socket.webSocket.send(Wire.difficulty(id, difficulty))) {
            pending.remove(id);
            call.fail(notConnected(id));
        } else if (open != socket && pending.remove(id) != null) {
            call.fail(lost(id));
        }
        return call;
    }

    boolean relay(@NotNull JsonElement data) {
        Socket socket = open;
        return socket != null && socket.webSocket.send(Wire.relay(data));
    }

    boolean relay(@NotNull ByteString data) {
        Socket socket = open;
        return socket != null && socket.webSocket.send(data);
    }

    /** {@code {"type":"ack",...}}: resolves the difficulty with that id. */
    void ack(JsonObject message) {
        Long id = Wire.id(message);
        PairlinkCall<Delivery> call = id == null ? null : pending.remove(id);
        if (call == null) {
            return; // the app canceled it
        }
        Delivery delivery = Wire.delivery(message);
        if (delivery != null) {
            call.succeed(delivery);
        } else {
            call.fail(new PairlinkException(PairlinkException.BAD_RESPONSE,
                    "an ack with status " + Wire.string(message, "status"), id, null));
        }
    }

    /**
     * An error after the welcome: it fails the difficulty with its id, or, for everything
     * else (relay data nobody was there for, a held draw that expired after its QUEUED), goes
     * to {@code onError}.
     */
    void error(PairlinkException error) {
        Long id = error.requestId();
        PairlinkCall<Delivery> call = id == null ? null : pending.remove(id);
        if (call == null || !call.fail(error)) {
            callbacks.error(error);
        }
    }

    private static PairlinkException lost(@Nullable Long id) {
        return new PairlinkException(PairlinkException.CONNECTION_LOST,
                "the connection dropped before the answer; the request is not sent again", id, null);
    }

    private static PairlinkException notConnected(long id) {
        return new PairlinkException(PairlinkException.NOT_CONNECTED,
                "the connection is not open; nothing was sent", id, null);
    }
}
