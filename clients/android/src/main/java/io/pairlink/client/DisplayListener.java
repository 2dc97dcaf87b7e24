package io.pairlink.client;

import org.jetbrains.annotations.NotNull;

/** A {@link PairlinkListener} that also receives the draws sent to a display. */
public abstract class DisplayListener extends PairlinkListener {
    /** The controller sent a difficulty and pairlink drew quizzes and an action for it. */
    public void onDraw(@NotNull Draw draw) {
    }
}
