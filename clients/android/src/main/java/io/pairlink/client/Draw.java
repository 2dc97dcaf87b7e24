package io.pairlink.client;

import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/** What a display receives for a controller's difficulty: the quizzes and the action drawn. */
public final class Draw {
    private final int[] quizIds;
    private final int actionId;
    private final int difficulty;
    private final boolean held;
    @Nullable
    private final String sentAt;

    Draw(int[] quizIds, int actionId, int difficulty, boolean held, @Nullable String sentAt) {
        this.quizIds = quizIds.clone();
        this.actionId = actionId;
        this.difficulty = difficulty;
        this.held = held;
        this.sentAt = sentAt;
    }

    /** Up to 3 distinct quiz ids (fewer when the catalogue has fewer at that difficulty). */
    @NotNull
    public int[] quizIds() {
        return quizIds.clone();
    }

    /** The action drawn. */
    public int actionId() {
        return actionId;
    }

    /** The difficulty the controller asked for. */
    public int difficulty() {
        return difficulty;
    }

    /** True when the draw was held while this display was away ({@code --hold-for}). */
    public boolean held() {
        return held;
    }

    /**
     * For a held draw, when pairlink received the controller's difficulty (RFC 3339, UTC,
     * milliseconds, e.g. {@code 2026-12-01T12:00:00.123Z}); null otherwise. A string, because
     * {@code java.time} needs Android API 26.
     */
    @Nullable
    public String sentAt() {
        return sentAt;
    }

    @Override
    public String toString() {
        return "Draw(difficulty " + difficulty + ", action " + actionId + (held ? ", held" : "") + ")";
    }
}
