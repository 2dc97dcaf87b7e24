package io.pairlink.client;

import org.jetbrains.annotations.Nullable;

/**
 * Supplies connection tokens for a server started with {@code --auth-secret}, typically by
 * asking the app's backend. The SDK calls it before every connect and again after a 4401
 * refusal, on a background thread of its own, so it may block (a synchronous OkHttp call
 * to the backend is fine).
 */
public interface TokenProvider {
    /**
     * Returns a token (a JWT) for this connection.
     *
     * @return the token; {@code null} when the app has none to give, which ends the connection
     *     with {@code CLOSED} (after a 4401, with that refusal's reason)
     * @throws Exception when a token cannot be fetched right now (e.g. the backend is
     *     unreachable): the SDK reports it through {@code onError} and tries again with backoff
     */
    @Nullable
    String token() throws Exception;
}
