package io.pairlink.client;

import java.util.concurrent.Executor;
import org.jetbrains.annotations.Nullable;

/**
 * Where a connection's token comes from: none, a fixed string, or the app's
 * {@link TokenProvider}, which runs on a thread of its own because it may block on the app's
 * backend. Also remembers what a 4401 refused, so that a provider with nothing fresher ends
 * the connection instead of presenting the same token forever.
 */
final class Tokens {
    /** A token, or why there is none. */
    interface Callback {
        void done(@Nullable String token, @Nullable Exception error);
    }

    /** What to do with a token the provider gave after a 4401. */
    enum Verdict { USE, NONE, SAME_AS_REFUSED }

    @Nullable
    private final String fixed;
    @Nullable
    private final TokenProvider provider;
    private final Executor thread;
    // Only on the connection's thread:
    @Nullable
    private CloseReason refusal;
    @Nullable
    private String refused;

    Tokens(@Nullable String fixed, @Nullable TokenProvider provider) {
        this.fixed = fixed;
        this.provider = provider;
        this.thread = Threads.serial("pairlink-token");
    }

    boolean any() {
        return fixed != null || provider != null;
    }

    /** Whether a 4401 can be answered with another token: only a provider has one. */
    boolean renewable() {
        return provider != null;
    }

    /** Fetches a token; the callback runs on the token thread (or at once for a fixed one). */
    void fetch(Callback callback) {
        TokenProvider source = provider;
        if (source == null) {
            callback.done(fixed, null);
            return;
        }
        thread.execute(() -> {
            try {
                callback.done(source.token(), null);
            } catch (Exception e) {
                callback.done(null, e);
            }
        });
    }

    /** A 4401 refused this token; the next one the provider gives is checked against it. */
    void refused(CloseReason reason, @Nullable String token) {
        refusal = reason;
        refused = token;
    }

    /** Forgets the last refusal (a fresh {@code connect()}). */
    void reset() {
        refusal = null;
        refused = null;
    }

    /** The 4401 being answered, if any, which a verdict other than USE ends the connection with. */
    @Nullable
    CloseReason refusal() {
        return refusal;
    }

    /** Judges a token from the provider; consumes the remembered refusal. */
    Verdict judge(@Nullable String token) {
        String before = refused;
        boolean afterRefusal = refusal != null;
        if (token == null) {
            return Verdict.NONE;
        }
        reset();
        return afterRefusal && token.equals(before) ? Verdict.SAME_AS_REFUSED : Verdict.USE;
    }
}
