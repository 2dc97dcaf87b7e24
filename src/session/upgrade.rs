//! The WebSocket handshake (RFC 6455 section 4.2) of a request, as a handler's extractor.
//!
//! pairlink answers the handshake itself rather than with axum's `WebSocketUpgrade`, so
//! that a connection's socket is the [`Socket`] over the TCP (or TLS) stream itself, not
//! axum's socket over hyper's boxed upgraded stream. The checks and their refusals are
//! axum's, with its rejection types: a request that is not a handshake is answered as
//! before, byte for byte.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::rejection::{
    ConnectionNotUpgradable, InvalidConnectionHeader, InvalidUpgradeHeader, InvalidWebSocketVersionHeader,
    MethodNotGet, WebSocketKeyHeaderMissing, WebSocketUpgradeRejection,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::WebSocketConfig;

use super::socket::Socket;

/// A valid handshake, to be answered with `101 Switching Protocols` by
/// [`WebSocketUpgrade::on_upgrade`].
#[derive(Debug)]
pub struct WebSocketUpgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
    protocol: Option<HeaderValue>,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = WebSocketUpgradeRejection;

    /// pairlink serves HTTP/1.1 only, so a handshake is always the HTTP/1.1 one.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET {
            return Err(MethodNotGet::default().into());
        }
        if !header_contains(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(InvalidConnectionHeader::default().into());
        }
        if !header_eq(&parts.headers, header::UPGRADE, "websocket") {
            return Err(InvalidUpgradeHeader::default().into());
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or_else(WebSocketKeyHeaderMissing::default)?
            .clone();
        if !header_eq(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(InvalidWebSocketVersionHeader::default().into());
        }
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(ConnectionNotUpgradable::default)?;
        Ok(Self {
            key,
            on_upgrade,
            protocol: None,
        })
    }
}

impl WebSocketUpgrade {
    /// Answers with this subprotocol, which the client offered.
    pub fn protocol(mut self, protocol: &'static str) -> Self {
        self.protocol = Some(HeaderValue::from_static(protocol));
        self
    }

    /// The 101 answer; once hyper hands the connection over, `callback` runs with its
    /// socket on a task of its own. A connection that never completes the upgrade (the
    /// client went away in between) is logged at debug and `callback` is dropped unused.
    pub fn on_upgrade<C, F>(self, config: WebSocketConfig, callback: C) -> Response
    where
        C: FnOnce(Socket) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => callback(Socket::new(upgraded, config)).await,
                Err(err) => tracing::debug!(%err, "WebSocket upgrade failed"),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        let accept = derive_accept_key(self.key.as_bytes());
        headers.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::try_from(accept).expect("base64 is a valid header value"),
        );
        if let Some(protocol) = self.protocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        response
    }
}

fn header_eq(headers: &HeaderMap, name: HeaderName, value: &'static str) -> bool {
    headers
        .get(&name)
        .is_some_and(|header| header.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
}

/// Whether the header's value holds `value`, in any case, as a substring:
/// `Connection: keep-alive, Upgrade` is an upgrade.
fn header_contains(headers: &HeaderMap, name: HeaderName, value: &'static str) -> bool {
    headers.get(&name).is_some_and(|header| {
        header
            .as_bytes()
            .windows(value.len())
            .any(|window| window.eq_ignore_ascii_case(value.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn extract(request: axum::http::Request<()>) -> Result<WebSocketUpgrade, WebSocketUpgradeRejection> {
        let (mut parts, ()) = request.into_parts();
        WebSocketUpgrade::from_request_parts(&mut parts, &()).await
    }

    /// A valid handshake to `/ws/echo` with `method`, each of `changes` replacing (or, with
    /// `None`, removing) one header.
    fn handshake(method: &str, changes: &[(&'static str, Option<&'static str>)]) -> axum::http::Request<()> {
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri("/ws/echo")
            .body(())
            .unwrap();
        let headers = request.headers_mut();
        for (name, value) in [
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "13"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        for (name, value) in changes {
            match value {
                Some(value) => headers.insert(*name, HeaderValue::from_static(value)),
                None => headers.remove(*name),
            };
        }
        request
    }

    #[tokio::test]
    async fn each_missing_part_of_a_handshake_has_axums_refusal() {
        let cases = [
            (
                handshake("POST", &[]),
                StatusCode::METHOD_NOT_ALLOWED,
                "Request method must be `GET`",
            ),
            (
                handshake("GET", &[("connection", Some("close"))]),
                StatusCode::BAD_REQUEST,
                "Connection header did not include 'upgrade'",
            ),
            (
                handshake("GET", &[("upgrade", Some("h2c"))]),
                StatusCode::BAD_REQUEST,
                "`Upgrade` header did not include 'websocket'",
            ),
            (
                handshake("GET", &[("sec-websocket-key", None)]),
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Key` header missing",
            ),
            (
                handshake("GET", &[("sec-websocket-version", Some("8"))]),
                StatusCode::BAD_REQUEST,
                "`Sec-WebSocket-Version` header did not include '13'",
            ),
            // A valid handshake that reached the handler without hyper's upgrade state.
            (
                handshake("GET", &[]),
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            ),
        ];
        for (request, status, body) in cases {
            let rejection = extract(request).await.unwrap_err();
            assert_eq!((rejection.status(), rejection.body_text().as_str()), (status, body));
        }
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
