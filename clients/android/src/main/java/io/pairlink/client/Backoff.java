package io.pairlink.client;

import java.util.Random;

/**
 * Reconnect delays: exponential backoff with full jitter (a random delay between 0 and
 * min(cap, base * 2^(attempt-1))), so that thousands of phones dropped by one server restart
 * do not all come back in the same millisecond.
 */
final class Backoff {
    static final long BASE_MILLIS = 500;
    static final long CAP_MILLIS = 30_000;
    /** A connection open this long counts as healthy: the next drop starts again at attempt 1. */
    static final long RESET_AFTER_MILLIS = 30_000;

    private final Random random;

    Backoff(Random random) {
        this.random = random;
    }

    /** The largest delay for an attempt (1 for the first retry). */
    static long ceilingMillis(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempts count from 1, got " + attempt);
        }
        // 500 ms * 2^6 = 32 s is past the cap already: no need to shift further.
        int doublings = Math.min(attempt - 1, 6);
        return Math.min(CAP_MILLIS, BASE_MILLIS << doublings);
    }

    /** A delay drawn uniformly from [0, ceiling(attempt)]. */
    long delayMillis(int attempt) {
        return Math.round(random.nextDouble() * ceilingMillis(attempt));
    }
}
