package io.pairlink.client;

/** How pairlink accepted a difficulty: the answer a {@code sendDifficulty} call resolves to. */
public enum Delivery {
    /** The draw has been written to the display's socket. */
    RECEIVED,
    /**
     * Held delivery is on and the display is absent: the draw waits for it. If it expires
     * first, the listener's {@code onError} later gets a {@link PairlinkException} with code
     * {@link PairlinkException#EXPIRED} and this call's {@link PairlinkCall#requestId()}.
     */
    QUEUED
}
