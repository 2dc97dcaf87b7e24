package io.pairlink.client;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jetbrains.annotations.NotNull;

/**
 * Runs the app's code on the app's executor, one task per event, and keeps the app's
 * exceptions away from the connection: a callback that throws is reported to
 * {@code onError} as {@link PairlinkException#CALLBACK_FAILED}.
 */
final class Callbacks {
    private static final Logger LOG = Logger.getLogger("io.pairlink.client");

    /** One call into the app. */
    interface AppCode {
        void run() throws Exception;
    }

    /** One call into the app's listener. */
    interface Event {
        void deliver(@NotNull PairlinkListener listener) throws Exception;
    }

    private final Executor executor;
    private final PairlinkListener listener;

    Callbacks(Executor executor, PairlinkListener listener) {
        this.executor = executor;
        this.listener = listener;
    }

    /** Delivers an event to the listener. */
    void emit(Event event) {
        run(() -> event.deliver(listener));
    }

    /** Reports an error to the listener's {@code onError}. */
    void error(PairlinkException error) {
        run(() -> listener.onError(error));
    }

    /** Runs app code on the executor; what it throws goes to {@code onError}. */
    void run(AppCode code) {
        try {
            executor.execute(() -> {
                try {
                    code.run();
                } catch (Exception e) {
                    reportFailure(e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.log(Level.WARNING, "pairlink: the callback executor refused a callback", e);
        }
    }

    private void reportFailure(Exception thrown) {
        PairlinkException error = new PairlinkException(PairlinkException.CALLBACK_FAILED,
                "an app callback threw " + thrown, null, thrown);
        try {
            listener.onError(error);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "pairlink: onError threw while reporting a callback failure", e);
        }
    }
}
