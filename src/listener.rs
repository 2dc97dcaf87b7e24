//! The accept loop: HTTP/1.1 with upgrades, served by hyper.
//!
//! pairlink runs its own loop instead of `axum::serve` for two settings axum does not
//! expose: a handshake timeout (a client that never finishes its request is dropped and
//! never reaches a connection slot) and stopping the accept loop from the server's own
//! shutdown token. Each request carries the client's address as `ConnectInfo`. With TLS
//! configured, each connection is a TLS stream first (see [`crate::tls`]).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Accepts and serves connections until `shutdown` is cancelled, then waits for plain
/// HTTP exchanges in progress to finish. Upgraded WebSockets are not waited for here:
/// they are tracked by [`crate::session::Sessions`]. With `tls`, every connection must
/// complete a TLS handshake first, within `handshake_timeout` too.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    handshake_timeout: Duration,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) {
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
        let router = router.clone();
        let shutdown = shutdown.clone();
        let Some(tls) = tls.clone() else {
            connections.spawn(serve_http(tcp, remote, false, router, handshake_timeout, shutdown));
            continue;
        };
        connections.spawn(async move {
            let handshake = tokio::time::timeout(handshake_timeout, tls.accept(tcp));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    // Scanners and plain-HTTP clients end up here: not worth more than debug.
                    Ok(Err(err)) => {
                        tracing::debug!(%err, %remote, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%remote, "TLS handshake timed out");
                        return;
                    }
                },
                () = shutdown.cancelled() => return,
            };
            serve_http(stream, remote, true, router, handshake_timeout, shutdown).await;
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Whether a request came over TLS, in every request's extensions: a URL the server
/// hands out for itself (a pairing code's join URL) must use the same scheme.
#[derive(Debug, Clone, Copy)]
pub struct OverTls(pub bool);

/// Serves HTTP/1.1 requests, and upgrades, on one connection (plain TCP or TLS).
async fn serve_http<I>(
    io: I,
    remote: SocketAddr,
    over_tls: bool,
    router: Router,
    handshake_timeout: Duration,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let service = router.map_request(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        request.extensions_mut().insert(OverTls(over_tls));
        request.map(Body::new)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
        .with_upgrades();
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
