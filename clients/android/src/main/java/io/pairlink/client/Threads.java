package io.pairlink.client;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The SDK's own threads: daemons with names that show up in a thread dump, which end when
 * they have been idle for a while, so a closed connection keeps no thread alive.
 */
final class Threads {
    private static final Logger LOG = Logger.getLogger("io.pairlink.client");
    private static final long IDLE_SECONDS = 30;
    private static final AtomicInteger COUNT = new AtomicInteger();

    private Threads() {
    }

    /** The one thread that owns a connection's state, its timers and its socket. */
    static ScheduledThreadPoolExecutor loop(String name) {
        ScheduledThreadPoolExecutor loop = new ScheduledThreadPoolExecutor(1, factory(name));
        loop.setRemoveOnCancelPolicy(true);
        loop.setKeepAliveTime(IDLE_SECONDS, TimeUnit.SECONDS);
        loop.allowCoreThreadTimeOut(true);
        return loop;
    }

    /** One thread, tasks in order: for the default callback executor and token providers. */
    static Executor serial(String name) {
        return new ThreadPoolExecutor(0, 1, IDLE_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<Runnable>(), factory(name));
    }

    /**
     * A scheduled executor keeps what its tasks throw to itself (and stops a periodic task
     * that threw): log it instead, so that a bug in the SDK is seen.
     */
    static Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "pairlink: a connection task failed", e);
            }
        };
    }

    private static ThreadFactory factory(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + COUNT.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
