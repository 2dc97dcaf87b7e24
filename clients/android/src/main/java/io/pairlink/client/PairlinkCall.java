package io.pairlink.client;

import org.jetbrains.annotations.NotNull;
import org.jetbrains.annotations.Nullable;

/**
 * The pending answer to a request, shaped like OkHttp's {@code Call}: {@link #enqueue} a
 * callback, or {@link #cancel()}. It completes exactly once. Android before API 24 has no
 * {@code CompletableFuture}; Kotlin turns this into a {@code suspend} call in five lines
 * (see the README).
 *
 * @param <T> what a success carries
 */
public final class PairlinkCall<T> {
    /** Receives the outcome on the connection's callback executor. */
    public interface Callback<T> {
        /** The request succeeded. */
        void onSuccess(@NotNull T value);

        /** The request failed; {@link PairlinkException#code()} says why. */
        void onFailure(@NotNull PairlinkException error);
    }

    private final Callbacks callbacks;
    @Nullable
    private final Long requestId;
    @Nullable
    private Callback<T> callback;
    @Nullable
    private T value;
    @Nullable
    private PairlinkException error;
    @Nullable
    private Runnable onCancel;
    private boolean enqueued;

    PairlinkCall(Callbacks callbacks, @Nullable Long requestId) {
        this.callbacks = callbacks;
        this.requestId = requestId;
    }

    /** The id the SDK gave the request on the wire; an {@code expired} error carries it too. */
    @Nullable
    public Long requestId() {
        return requestId;
    }

    /**
     * Registers the one callback. If the outcome is already known it is delivered at once (on
     * the callback executor, never on the caller's thread).
     *
     * @throws IllegalStateException if a callback was already enqueued
     */
    public void enqueue(@NotNull Callback<T> callback) {
        synchronized (this) {
            if (enqueued) {
                throw new IllegalStateException("a PairlinkCall takes one callback");
            }
            enqueued = true;
            this.callback = callback;
        }
        deliverIfDone();
    }

    /**
     * Stops waiting: the callback gets {@link PairlinkException#CANCELED} unless the outcome
     * came first. A difficulty already sent stays sent (the server may still draw).
     */
    public void cancel() {
        Runnable hook;
        synchronized (this) {
            hook = onCancel;
        }
        if (fail(new PairlinkException(PairlinkException.CANCELED, "canceled by the app",
                requestId, null)) && hook != null) {
            hook.run();
        }
    }

    /** Whether the outcome (success, failure or cancel) is known. */
    public synchronized boolean isDone() {
        return value != null || error != null;
    }

    /** Whether {@link #cancel()} ended this call. */
    public synchronized boolean isCanceled() {
        return error != null && PairlinkException.CANCELED.equals(error.code());
    }

    /** Runs {@code hook} when the app cancels (an HTTP call to abort). */
    synchronized void onCancel(Runnable hook) {
        this.onCancel = hook;
    }

    /** Completes with a value; false if the call was already done. */
    boolean succeed(@NotNull T result) {
        synchronized (this) {
            if (isDone()) {
                return false;
            }
            value = result;
        }
        deliverIfDone();
        return true;
    }

    /** Completes with an error; false if the call was already done. */
    boolean fail(@NotNull PairlinkException failure) {
        synchronized (this) {
            if (isDone()) {
                return false;
            }
            error = failure;
        }
        deliverIfDone();
        return true;
    }

    private void deliverIfDone() {
        final Callback<T> target;
        final T result;
        final PairlinkException failure;
        synchronized (this) {
            if (callback == null || !isDone()) {
                return;
            }
            target = callback;
            callback = null;
            result = value;
            failure = error;
        }
        callbacks.run(() -> {
            if (result != null) {
                target.onSuccess(result);
            } else if (failure != null) {
                target.onFailure(failure);
            }
        });
    }
}
