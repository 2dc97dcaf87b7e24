//! The accept loop: HTTP/1.1 with upgrades, served by hyper.
//!
//! pairlink runs its own loop instead of `axum::serve` for two settings axum does not
//! expose: a handshake timeout (a client that never finishes its request is dropped and
//! never reaches a connection slot) and stopping the accept loop from the server's own
//! shutdown token. Each request carries the client's address as `ConnectInfo`.

use std::io;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Accepts and serves connections until `shutdown` is cancelled, then waits for plain
/// HTTP exchanges in progress to finish. Upgraded WebSockets are not waited for here:
/// they are tracked by [`crate::session::Sessions`].
pub async fn serve(listener: TcpListener, router: Router, handshake_timeout: Duration, shutdown: CancellationToken) {
    let connections = TaskTracker::new();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Messages are small and latency matters more than packet count.
        let _ = tcp.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request.map(Body::new)
            });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(handshake_timeout)
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
            .with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    // Finish the request in progress, then close; an upgraded
                    // connection has already left hyper and is unaffected.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%err, %remote, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Per-connection accept errors are skipped; running out of file descriptors is
/// logged and waited out instead of spinning.
async fn accept_failed(err: io::Error) {
    match err.kind() {
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted => {}
        _ => {
            tracing::error!(%err, "cannot accept connections; retrying shortly");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
