//! The running server: what every request handler shares ([`AppState`]), the routes,
//! and [`Application`], which binds, prepares the catalogue and serves until stopped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use axum::{Router, middleware};
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::broker::Broker;
use crate::broker::local::LocalBroker;
use crate::broker::redis::RedisBroker;
use crate::catalog::{SharedCatalog, store};
use crate::config::ServeConfig;
use crate::content::{self, ContentApi};
use crate::db::Database;
use crate::origins::{self, OriginPolicy};
use crate::pairing::codes::PairingCodes;
use crate::pairing::held::HeldMessages;
use crate::session::Sessions;
use crate::stats::Throughput;
use crate::tls::{self, Certificates};
use crate::{console, echo, health, hub, listener, metrics, pairing, rooms, signaling, stats};

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub catalog: SharedCatalog,
    pub broker: Arc<dyn Broker>,
    pub sessions: Sessions,
    /// Draws waiting for an offline display, when `--hold-for` is set.
    pub held: Option<HeldMessages>,
    /// Pairing codes' settings and the guard against guessing them.
    pub codes: Arc<PairingCodes>,
    /// Messages a room keeps (`--room-history`): a joining member's queue has room for
    /// its replay on top of `--queue-capacity`.
    pub room_history: usize,
    /// The content API (`/api`): its database and admin token.
    pub content: ContentApi,
    /// The catalogue database, for readiness probes.
    pub db: Database,
    /// Connection tokens, when `--auth-secret` is set.
    pub auth: Option<Auth>,
    /// Which browser origins may connect.
    pub origins: OriginPolicy,
    /// Messages per second and uptime, for `GET /api/stats`.
    pub throughput: Throughput,
}

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    handshake_timeout: Duration,
    shutdown_timeout: Duration,
    /// The certificate, when serving HTTPS and WSS.
    tls: Option<Arc<Certificates>>,
}

impl Application {
    /// Binds the listener, connects to and migrates the database, loads demo content
    /// into an empty catalogue and reads the catalogue into memory.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Self> {
        let tls = config.tls.map(Certificates::load).transpose()?;
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
        let sessions = Sessions::new(config.limits);
        let throughput = Throughput::start(sessions.shutdown_token().clone());
        let catalog = SharedCatalog::new(catalog);
        let patience = config.limits.slow_consumer_timeout;
        let broker: Arc<dyn Broker> = match config.redis {
            Some(settings) => {
                let write_timeout = config.limits.write_timeout;
                let redis = RedisBroker::connect(
                    settings,
                    patience,
                    write_timeout,
                    config.rooms,
                    catalog.clone(),
                    db.clone(),
                );
                Arc::new(redis.await?)
            }
            None => Arc::new(LocalBroker::new(patience, config.rooms)),
        };
        let state = AppState {
            catalog,
            broker: broker.clone(),
            sessions,
            room_history: config.rooms.history,
            codes: PairingCodes::new(config.codes),
            held: config.hold.map(|policy| HeldMessages::new(policy, broker.clone())),
            content: ContentApi::new(db.clone(), config.admin_token),
            db,
            auth: config.auth_secret.as_ref().map(Auth::new),
            origins: OriginPolicy::new(config.allowed_origins),
            throughput,
        };
        state.origins.log();
        if let (Some(held), Some(mut attachments)) = (state.held.clone(), state.broker.attachments()) {
            // Displays coming back on other nodes take what this node holds for them.
            let broker = state.broker.clone();
            tokio::spawn(async move {
                loop {
                    match attachments.recv().await {
                        Ok(device) => held.release(broker.as_ref(), device).await,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            held.release_all(broker.as_ref()).await
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        if state.auth.is_some() {
            tracing::info!("connections must present a token (--auth-secret is set)");
        }
        Ok(Self {
            listener,
            state,
            handshake_timeout: config.handshake_timeout,
            shutdown_timeout: config.shutdown_timeout,
            tls,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The certificate being served, if TLS is on: [`Certificates::reload`] is what
    /// SIGHUP does.
    pub fn tls_certificates(&self) -> Option<Arc<Certificates>> {
        self.tls.clone()
    }

    /// Serves until `signal` completes; then stops accepting, closes every WebSocket with
    /// 1001 after flushing what was queued for it, and waits at most the shutdown timeout.
    pub async fn run_until_stopped(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let sessions = self.state.sessions.clone();
        let stop = sessions.shutdown_token().clone();
        tokio::spawn(async move {
            signal.await;
            tracing::info!(open = sessions.open(), "shutting down: closing connections");
            stop.cancel();
        });
        let sessions = self.state.sessions.clone();
        let acceptor = self.tls.map(|certs| {
            tls::reload::spawn(certs.clone(), sessions.shutdown_token().clone());
            certs.acceptor()
        });
        let serving = listener::serve(
            self.listener,
            router(self.state),
            self.handshake_timeout,
            acceptor,
            sessions.shutdown_token().clone(),
        );
        tokio::pin!(serving);
        let stopped_serving = tokio::select! {
            () = &mut serving => true,
            () = sessions.shutdown_token().cancelled() => false,
        };
        // Shutting down: plain HTTP requests in flight and WebSocket connections wind
        // down together, within one deadline.
        let deadline = self.shutdown_timeout;
        let http = async {
            if !stopped_serving {
                let _ = tokio::time::timeout(deadline, serving).await;
            }
        };
        let ((), still_open) = tokio::join!(http, sessions.close_all(deadline));
        if still_open > 0 {
            tracing::warn!(
                still_open,
                "connections still open at the shutdown deadline were dropped"
            );
        }
        Ok(())
    }
}

fn router(state: AppState) -> Router {
    let origins = state.origins.clone();
    Router::new()
        .route("/metrics", get(metrics::serve_metrics))
        .merge(health::router())
        .merge(pairing::router())
        .merge(echo::router())
        .merge(hub::router())
        .merge(rooms::router())
        .merge(signaling::router())
        .merge(content::router())
        .merge(stats::router())
        .merge(console::router())
        .layer(middleware::from_fn_with_state(origins.clone(), origins::guard))
        .layer(origins.cors())
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
