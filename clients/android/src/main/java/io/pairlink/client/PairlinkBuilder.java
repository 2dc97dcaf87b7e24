package io.pairlink.client;

import com.google.gson.Gson;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * What {@link PairlinkController.Builder} and {@link PairlinkDisplay.Builder} share: the
 * server, the token, threads, liveness and the OkHttp client.
 *
 * @param <B> the concrete builder, so that chained calls keep its own methods
 */
public abstract class PairlinkBuilder<B extends PairlinkBuilder<B>> {
    /** How often the SDK pings when the app does not say: the SDKs' shared default. */
    public static final long DEFAULT_PING_INTERVAL_MILLIS = 10_000;

    private static volatile OkHttpClient sharedClient;

    @Nullable
    String url;
    @Nullable
    String uuid;
    @Nullable
    private String token;
    @Nullable
    private TokenProvider tokenProvider;
    @Nullable
    private Executor callbackExecutor;
    private long pingIntervalMillis = DEFAULT_PING_INTERVAL_MILLIS;
    @Nullable
    private OkHttpClient client;
    @Nullable
    private Gson gson;

    PairlinkBuilder() {
    }

    abstract B self();

    /**
     * The server: {@code ws://192.168.1.20:8080} on a LAN, {@code wss://play.example.com}
     * behind TLS ({@code http(s)://} works too). A path is kept as a prefix for a proxy.
     */
    @NotNull
    public B url(@NotNull String url) {
        this.url = url;
        return self();
    }

    /** The pair's UUID (8-4-4-4-12 hex, any case). */
    @NotNull
    public B uuid(@NotNull String uuid) {
        this.uuid = uuid;
        return self();
    }

    /** A fixed connection token (a server with {@code --auth-secret}). A 4401 then is final. */
    @NotNull
    public B token(@NotNull String token) {
        this.token = token;
        this.tokenProvider = null;
        return self();
    }

    /** Fetches a token before each connect and after a 4401; see {@link TokenProvider}. */
    @NotNull
    public B tokenProvider(@NotNull TokenProvider provider) {
        this.tokenProvider = provider;
        this.token = null;
        return self();
    }

    /**
     * Where every listener and call callback runs, e.g.
     * {@code ContextCompat.getMainExecutor(context)}. It should run tasks in order (the main
     * executor does). Default: one background thread of the SDK's.
     */
    @NotNull
    public B callbackExecutor(@NotNull Executor executor) {
        this.callbackExecutor = executor;
        return self();
    }

    /**
     * How often to send an app-level ping (default 10 s; never more than a third of the
     * server's idle timeout). Two pings without a pong count the connection as dead.
     */
    @NotNull
    public B pingInterval(long interval, @NotNull TimeUnit unit) {
        long millis = unit.toMillis(interval);
        if (millis <= 0) {
            throw new IllegalArgumentException("the ping interval must be positive");
        }
        this.pingIntervalMillis = millis;
        return self();
    }

    /** The app's OkHttpClient, to share its connection pool, proxy and TLS settings. */
    @NotNull
    public B okHttpClient(@NotNull OkHttpClient client) {
        this.client = client;
        return self();
    }

    /** The Gson that turns {@code relay(Object)} values into JSON (default {@code new Gson()}). */
    @NotNull
    public B gson(@NotNull Gson gson) {
        this.gson = gson;
        return self();
    }

    Gson gsonOrDefault() {
        return gson != null ? gson : new Gson();
    }

    Connection connection(Role role, Endpoint endpoint, PairlinkListener listener) {
        Executor executor = callbackExecutor != null ? callbackExecutor
                : Threads.serial("pairlink-callbacks");
        return new Connection(role, endpoint, clientOrDefault(), new Callbacks(executor, listener),
                token, tokenProvider, pingIntervalMillis);
    }

    OkHttpClient clientOrDefault() {
        if (client != null) {
            return client;
        }
        OkHttpClient shared = sharedClient;
        if (shared == null) {
            synchronized (PairlinkBuilder.class) {
                shared = sharedClient;
                if (shared == null) {
                    shared = new OkHttpClient();
                    sharedClient = shared;
                }
            }
        }
        return shared;
    }
}
