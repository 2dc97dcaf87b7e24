//! The running server: [`Application`], which binds, prepares the catalogue, starts the
//! hub and serves until stopped, and the routes of every feature.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use axum::{Router, middleware};
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::backplane::Backplane;
use crate::backplane::redis::RedisBackplane;
use crate::backplane::solo::Solo;
use crate::catalog::{SharedCatalog, store};
use crate::config::ServeConfig;
use crate::content::{self, ContentApi};
use crate::db::Database;
use crate::held::HeldDraws;
use crate::hub::Hub;
use crate::lifecycle::Tasks;
use crate::metrics::throughput::Throughput;
use crate::origins::{self, OriginPolicy};
use crate::session::Sessions;
use crate::state::AppState;
use crate::tls::{self, Certificates};
use crate::{chat_hub, console, echo, health, listener, metrics, pairing, rooms, signaling, stats};

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The content API's own state.
    content: ContentApi,
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
        let tasks = Tasks::new();
        let throughput = Throughput::start(&tasks);
        let catalog = SharedCatalog::new(catalog);
        let patience = config.limits.slow_consumer_timeout;
        let mut redis = None;
        let backplane: Arc<dyn Backplane> = match config.redis {
            Some(settings) => {
                let write_timeout = config.limits.write_timeout;
                let connected = RedisBackplane::connect(
                    settings,
                    patience,
                    write_timeout,
                    config.rooms,
                    config.codes.guesses,
                    catalog.clone(),
                    db.clone(),
                )
                .await?;
                redis = Some(connected.clone());
                Arc::new(connected)
            }
            None => Arc::new(Solo::new(config.rooms, config.codes.guesses)),
        };
        let hub = Hub::new(backplane.clone(), patience, &tasks);
        if let Some(redis) = redis {
            redis.subscribed().await;
        }
        let held = config.hold.map(|policy| HeldDraws::new(policy, hub.clone(), &tasks));
        if let Some(held) = held.clone() {
            held.follow_displays(&tasks);
        }
        let content = ContentApi::new(db.clone(), config.admin_token, catalog.clone(), backplane);
        let state = AppState {
            catalog,
            hub,
            sessions,
            tasks,
            room_history: config.rooms.history,
            code_policy: Arc::new(config.codes),
            held,
            db,
            auth: config.auth_secret.as_ref().map(Auth::new),
            origins: OriginPolicy::new(config.allowed_origins),
            throughput,
        };
        state.origins.log();
        if state.auth.is_some() {
            tracing::info!("connections must present a token (--auth-secret is set)");
        }
        Ok(Self {
            listener,
            state,
            content,
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
        let tasks = self.state.tasks.clone();
        let acceptor = self.tls.map(|certs| {
            tls::reload::spawn(certs.clone(), &tasks);
            certs.acceptor()
        });
        let serving = listener::serve(
            self.listener,
            router(self.state, self.content),
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
        // Background work last: closing connections still told other nodes they left.
        let still_running = tasks.stop(deadline).await;
        if still_running > 0 {
            tracing::warn!(still_running, "background tasks still running at the shutdown deadline");
        }
        Ok(())
    }
}

fn router(state: AppState, content: ContentApi) -> Router {
    let origins = state.origins.clone();
    Router::new()
        .route("/metrics", get(metrics::serve_metrics))
        .merge(health::router())
        .merge(pairing::router())
        .merge(echo::router())
        .merge(chat_hub::router())
        .merge(rooms::router())
        .merge(signaling::router())
        .merge(content::router(content))
        .merge(stats::router())
        .merge(console::router())
        .layer(middleware::from_fn_with_state(origins.clone(), origins::guard))
        .layer(origins.cors())
        .with_state(state)
}
