//! The running server: what every request handler shares ([`AppState`]), the routes,
//! and [`Application`], which binds, prepares the catalogue and serves until stopped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broker::Broker;
use crate::broker::local::LocalBroker;
use crate::catalog::{SharedCatalog, store};
use crate::config::ServeConfig;
use crate::db::Database;
use crate::pairing;
use crate::session::Limits;

/// How long shutdown waits for open connections to flush and close.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub catalog: SharedCatalog,
    pub broker: Arc<dyn Broker>,
    pub limits: Limits,
    /// Cancelled when the server begins to shut down; every connection watches it.
    pub shutdown: CancellationToken,
    /// Tracks upgraded WebSocket connections, which axum's graceful shutdown does not
    /// wait for (axum issue #3003).
    pub tracker: TaskTracker,
}

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Binds the listener, connects to and migrates the database, loads demo content
    /// into an empty catalogue and reads the catalogue into memory.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let db = Database::connect(&config.database).await?;
        db.migrate().await?;
        if store::seed_demo_if_empty(&db).await? {
            tracing::info!("the catalogue was empty: loaded the demo quizzes and actions");
        }
        let catalog = store::load(&db).await?;
        tracing::info!(
            quizzes = catalog.quiz_count(),
            actions = catalog.action_count(),
            database = %config.database,
            "catalogue loaded"
        );
        let state = AppState {
            catalog: SharedCatalog::new(catalog),
            broker: Arc::new(LocalBroker::new()),
            limits: config.limits,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `signal` completes, then closes every connection with 1001 after
    /// flushing what was queued for it, waiting at most a few seconds.
    pub async fn run_until_stopped(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, state } = self;
        let shutdown = state.shutdown.clone();
        let tracker = state.tracker.clone();
        let listener = listener.tap_io(|tcp| {
            // Messages are small and latency matters more than packet count.
            let _ = tcp.set_nodelay(true);
        });
        let stop = shutdown.clone();
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async move {
                signal.await;
                tracing::info!("shutting down: closing connections");
                stop.cancel();
            })
            .await
            .context("the server stopped unexpectedly")?;
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, tracker.wait()).await.is_err() {
            tracing::warn!(
                open = tracker.len(),
                "connections still open after the shutdown timeout"
            );
        }
        Ok(())
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(pairing::router())
        .with_state(state)
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
