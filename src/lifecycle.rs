//! The server's background work, started in one place and stopped together: every task
//! that is not a connection (heartbeat, subscription, janitor and repair of the Redis
//! backplane, held-draw expiry and hand-over, room retention, catalogue sync, TLS
//! reload, the throughput sampler) runs on [`Tasks`], ends when the server stops and is
//! awaited at shutdown. Connections have their own tracker in [`crate::session`].

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Background tasks of one server. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` until it completes or the server stops, whichever comes first. A
    /// task is dropped at an `.await` when the server stops, so it must leave nothing
    /// half-done there that matters after shutdown.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = task => {}
            }
        });
    }

    /// Cancelled when the server stops.
    pub fn stopping(&self) -> &CancellationToken {
        &self.stop
    }

    /// Stops every task and waits for them, at most `timeout`; returns how many were
    /// still running then.
    pub async fn stop(&self, timeout: Duration) -> usize {
        self.stop.cancel();
        self.tracker.close();
        match tokio::time::timeout(timeout, self.tracker.wait()).await {
            Ok(()) => 0,
            Err(_) => self.tracker.len(),
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what `docker stop` and systemd send).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_ends_every_task_and_waits_for_them() {
        let tasks = Tasks::new();
        let (ended, mut told) = tokio::sync::mpsc::channel::<()>(2);
        for _ in 0..2 {
            let ended = DropSignal(ended.clone());
            tasks.spawn(async move {
                let _ended = ended;
                std::future::pending::<()>().await;
            });
        }
        drop(ended);
        assert_eq!(tasks.stop(Duration::from_secs(5)).await, 0);
        // Both tasks were dropped (their guards told), and the channel is closed.
        assert!(told.recv().await.is_some());
        assert!(told.recv().await.is_some());
        assert!(told.recv().await.is_none());
    }

    struct DropSignal(tokio::sync::mpsc::Sender<()>);

    impl Drop for DropSignal {
        fn drop(&mut self) {
            let _ = self.0.try_send(());
        }
    }
}
