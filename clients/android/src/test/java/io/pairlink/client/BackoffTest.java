package io.pairlink.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void theCeilingDoublesFromHalfASecondUpToThirtySeconds() {
        long[] expected = {500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000};
        for (int attempt = 1; attempt <= expected.length; attempt++) {
            assertEquals(expected[attempt - 1], Backoff.ceilingMillis(attempt), "attempt " + attempt);
        }
        assertEquals(30_000, Backoff.ceilingMillis(Integer.MAX_VALUE));
    }

    @Test
    void delaysAreDrawnFromZeroToTheCeiling() {
        Backoff backoff = new Backoff(new Random(7));
        boolean sawLow = false;
        boolean sawHigh = false;
        for (int i = 0; i < 1_000; i++) {
            long delay = backoff.delayMillis(3);
            assertTrue(delay >= 0 && delay <= 2_000, "delay " + delay);
            sawLow |= delay < 500;
            sawHigh |= delay > 1_500;
        }
        assertTrue(sawLow && sawHigh, "full jitter spreads over the whole range");
    }

    @Test
    void attemptsCountFromOne() {
        assertThrows(IllegalArgumentException.class, () -> Backoff.ceilingMillis(0));
    }
}
