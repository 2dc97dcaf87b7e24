package io.pairlink.client;

import com.google.gson.JsonObject;
import java.util.Random;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * The core both {@link PairlinkDisplay} and {@link PairlinkController} stand on: one protocol
 * v2 connection that reconnects by itself. A small actor: its state, timers and sockets are
 * touched only on its own thread ({@link #loop}); OkHttp's callbacks and the app's calls are
 * handed to that thread. Requests and relay data are the exception: they go straight to
 * OkHttp's thread-safe {@code send}, in the app's order, through {@link Requests}.
 */
final class Connection {
    private static final Logger LOG = Logger.getLogger("io.pairlink.client");

    private final Role role;
    private final Endpoint endpoint;
    private final OkHttpClient client;
    private final Callbacks callbacks;
    private final Tokens tokens;
    private final long pingIntervalMillis;
    private final ScheduledThreadPoolExecutor loop;
    private final Backoff backoff = new Backoff(new Random());
    final Requests requests;

    private volatile ConnectionState state = new ConnectionState.Closed(
            new CloseReason(1000, CloseReason.CLOSED, "connect() not called yet"));
    private volatile boolean peerConnected;

    // Only on the loop thread:
    @Nullable
    private Socket current;
    /** The app wants a connection: false after close(), pause() and final closes. */
    private boolean wanted;
    private boolean paused;
    /** Reconnect attempts since the last healthy connection. */
    private int attempt;
    private long openedAtMillis;
    /** Bumped by every attempt and stop, so that a late token answer is dropped. */
    private long attemptSeq;
    @Nullable
    private ScheduledFuture<?> retry;

    Connection(Role role, Endpoint endpoint, OkHttpClient client, Callbacks callbacks,
            @Nullable String staticToken, @Nullable TokenProvider provider, long pingIntervalMillis) {
        this.role = role;
        this.endpoint = endpoint;
        this.client = client;
        this.callbacks = callbacks;
        this.tokens = new Tokens(staticToken, provider);
        this.pingIntervalMillis = pingIntervalMillis;
        this.loop = Threads.loop("pairlink-" + role.wireName());
        this.requests = new Requests(callbacks);
    }

    ConnectionState state() {
        return state;
    }

    boolean peerConnected() {
        return peerConnected;
    }

    @Nullable
    String uuid() {
        return endpoint.uuid();
    }

    Endpoint endpoint() {
        return endpoint;
    }

    OkHttpClient client() {
        return client;
    }

    Callbacks callbacks() {
        return callbacks;
    }

    void connect() {
        post(this::connectOnLoop);
    }

    void close() {
        post(() -> {
            if (wanted || paused) {
                paused = false;
                stop(CloseReason.CLOSED);
            }
        });
    }

    void pause() {
        post(() -> {
            if (wanted) {
                stop(CloseReason.PAUSED);
                paused = true;
            }
        });
    }

    void resume() {
        post(() -> {
            if (paused) {
                paused = false;
                connectOnLoop();
            }
        });
    }

    /** Hands work to the connection's thread. */
    void post(Runnable task) {
        try {
            loop.execute(Threads.guarded(task));
        } catch (RejectedExecutionException e) {
            LOG.log(Level.WARNING, "pairlink: connection thread refused a task", e);
        }
    }

    /** Asks for a token off the connection's thread (for the pairing code's HTTP request). */
    void fetchToken(Tokens.Callback callback) {
        tokens.fetch(callback);
    }

    private void connectOnLoop() {
        if (wanted) {
            return;
        }
        wanted = true;
        paused = false;
        attempt = 0;
        tokens.reset();
        setState(new ConnectionState.Connecting());
        begin();
    }

    /** One attempt: a token if this endpoint takes one, then the WebSocket. */
    private void begin() {
        retry = null;
        long seq = ++attemptSeq;
        if (!endpoint.wantsToken() || !tokens.any()) {
            open(null);
            return;
        }
        tokens.fetch((token, error) -> post(() -> {
            if (seq == attemptSeq && wanted) {
                tokenReady(token, error);
            }
        }));
    }

    private void tokenReady(@Nullable String token, @Nullable Exception error) {
        if (error != null) {
            callbacks.error(new PairlinkException(PairlinkException.TOKEN_UNAVAILABLE,
                    "the token provider threw " + error, null, error));
            scheduleRetry(new CloseReason(4401, PairlinkException.TOKEN_UNAVAILABLE,
                    String.valueOf(error)), 0);
            return;
        }
        CloseReason refusal = tokens.refusal();
        switch (tokens.judge(token)) {
            case USE:
                open(token);
                break;
            case SAME_AS_REFUSED:
                finish(refusal);
                break;
            default:
                finish(refusal != null ? refusal
                        : new CloseReason(4401, CloseReason.NO_TOKEN, "the token provider gave none"));
        }
    }

    private void open(@Nullable String token) {
        Request.Builder request = new Request.Builder().url(endpoint.socketUrl())
                .header("Sec-WebSocket-Protocol", Wire.SUBPROTOCOL);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        Socket socket = new Socket(this, token);
        current = socket;
        socket.webSocket = client.newWebSocket(request.build(), socket);
    }

    void upgraded(Socket socket, @Nullable String protocol) {
        if (socket != current) {
            return;
        }
        socket.upgraded = true;
        if (!Wire.SUBPROTOCOL.equals(protocol)) {
            socket.webSocket.close(1000, null);
            dropped(socket, new CloseReason(1002, CloseReason.PROTOCOL_UNSUPPORTED,
                    "the server answered subprotocol " + protocol + ", not " + Wire.SUBPROTOCOL));
            return;
        }
        startPinger(socket, pingIntervalMillis);
    }

    void text(Socket socket, String text) {
        if (socket != current) {
            return;
        }
        JsonObject message = Wire.parse(text);
        String type = message == null ? null : Wire.string(message, "type");
        if (message == null || type == null) {
            LOG.fine("pairlink: ignoring a message without a type");
            return;
        }
        switch (type) {
            case "welcome":
                welcomed(socket, message);
                break;
            case "error":
                if (socket.welcomed) {
                    requests.error(Wire.error(message));
                } else {
                    socket.refusal = Wire.error(message);
                    Long retryAfter = Wire.integer(message, "retry_after");
                    socket.retryAfterSeconds = retryAfter == null ? 0 : retryAfter;
                }
                break;
            case "ack":
                requests.ack(message);
                break;
            case "pong":
                socket.unansweredPings = 0;
                break;
            case "peer":
                Role peer = Role.fromWire(Wire.string(message, "role"));
                if (peer != null) {
                    boolean connected = Wire.bool(message, "connected");
                    peerConnected = connected;
                    callbacks.emit(listener -> listener.onPeer(peer, connected));
                }
                break;
            case "relay":
                callbacks.emit(listener -> listener.onRelay(Wire.relayData(message)));
                break;
            case "draw":
                Draw draw = Wire.draw(message);
                if (draw != null) {
                    callbacks.emit(listener -> {
                        if (listener instanceof DisplayListener) {
                            ((DisplayListener) listener).onDraw(draw);
                        }
                    });
                }
                break;
            default:
                // A message type of a later protocol version: ignore it, as the protocol says.
        }
    }

    private void welcomed(Socket socket, JsonObject message) {
        Welcome welcome = Wire.welcome(message);
        if (welcome == null) {
            // Not the documented v2: nothing else from this server can be trusted either.
            socket.webSocket.close(1000, null);
            dropped(socket, new CloseReason(1002, CloseReason.PROTOCOL_UNSUPPORTED,
                    "a welcome without a role or a uuid"));
            return;
        }
        socket.welcomed = true;
        openedAtMillis = System.currentTimeMillis();
        if (role == Role.CONTROLLER) {
            endpoint.learnUuid(welcome.uuid());
        }
        long idle = welcome.idleTimeoutMillis();
        startPinger(socket, idle > 0 ? Math.min(pingIntervalMillis, Math.max(1, idle / 3))
                : pingIntervalMillis);
        peerConnected = welcome.peerConnected();
        requests.opened(socket);
        setState(new ConnectionState.Open(welcome));
        callbacks.emit(listener -> listener.onPeer(role.other(), welcome.peerConnected()));
    }

    void binary(Socket socket, okio.ByteString bytes) {
        if (socket == current) {
            callbacks.emit(listener -> listener.onBinaryRelay(bytes));
        }
    }

    /** The socket ended: decide, from the close code, whether and when to try again. */
    void dropped(Socket socket, CloseReason closed) {
        if (socket != current) {
            return; // an old attempt's late close, or this one's second report
        }
        forget(socket);
        PairlinkException refusal = socket.refusal;
        CloseReason reason = refusal == null ? closed
                : new CloseReason(closed.code(), refusal.code(), refusal.getMessage());
        if (socket.welcomed
                && System.currentTimeMillis() - openedAtMillis >= Backoff.RESET_AFTER_MILLIS) {
            attempt = 0;
        }
        switch (CloseRules.classify(reason)) {
            case FINAL:
                finish(reason);
                break;
            case RENEW_TOKEN:
                if (tokens.renewable()) {
                    tokens.refused(reason, socket.token);
                    scheduleRetry(reason, 0);
                } else {
                    finish(reason);
                }
                break;
            case USE_UUID:
                if (endpoint.dropCode()) {
                    scheduleRetry(reason, 0);
                } else {
                    finish(reason);
                }
                break;
            default:
                scheduleRetry(reason, reason.code() == 4429
                        ? TimeUnit.SECONDS.toMillis(socket.retryAfterSeconds) : 0);
        }
    }

    private void scheduleRetry(CloseReason reason, long atLeastMillis) {
        attempt++;
        long delay = Math.max(backoff.delayMillis(attempt), atLeastMillis);
        setState(new ConnectionState.Reconnecting(attempt, delay, reason));
        retry = loop.schedule(Threads.guarded(this::begin), delay, TimeUnit.MILLISECONDS);
    }

    private void finish(CloseReason reason) {
        wanted = false;
        setState(new ConnectionState.Closed(reason));
    }

    /** The app closed or paused: leave cleanly, so the peer sees this side go at once. */
    private void stop(String why) {
        wanted = false;
        attemptSeq++;
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
        Socket socket = current;
        if (socket != null) {
            forget(socket);
            if (socket.upgraded) {
                socket.webSocket.close(1000, null);
            } else {
                socket.webSocket.cancel();
            }
        }
        setState(new ConnectionState.Closed(new CloseReason(1000, why, null)));
    }

    /** This socket is no longer the connection: requests waiting on it fail. */
    private void forget(Socket socket) {
        current = null;
        if (socket.pinger != null) {
            socket.pinger.cancel(false);
        }
        requests.closed(socket);
    }

    private void startPinger(Socket socket, long intervalMillis) {
        Liveness.start(loop, socket, intervalMillis, requests, () -> dropped(socket,
                new CloseReason(1006, CloseReason.PING_TIMEOUT,
                        "no pong within two pings of " + intervalMillis + " ms")));
    }

    private void setState(@NotNull ConnectionState next) {
        state = next;
        if (next.kind() != ConnectionState.Kind.OPEN) {
            peerConnected = false;
        }
        callbacks.emit(listener -> listener.onStateChanged(next));
    }
}
