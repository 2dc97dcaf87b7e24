//! Which protocol a client asked for, and how a connection is refused.
//!
//! A client offers v2 with the subprotocol `pairlink.v2` ([`offered`]). v1 refuses a
//! connection with an HTTP status and a JSON body before the upgrade; many WebSocket
//! libraries (browsers, `ClientWebSocket`, NativeWebSocket) cannot read either, so a v2
//! client whose handshake is valid is upgraded instead, told the error in-band and closed
//! with 4000 + that status ([`Refusal::respond`]). docs/protocol.md, "Refusals in-band".

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::SinkExt;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, Utf8Bytes};

use super::{Socket, Upgrade, WebSocketUpgrade, refuse, small_buffers};
use crate::backplane::Unavailable;
use crate::metrics::METRICS;
use crate::protocol::v2::{ErrorEvent, SUBPROTOCOL};
use crate::protocol::{ErrorCode, InvalidDeviceId, Version};

/// What a handshake's headers ask for: v2 when one of the `Sec-WebSocket-Protocol`
/// tokens, over every line of that header, is exactly `pairlink.v2` (tokens are
/// case-sensitive, RFC 6455 section 4.1); v1 otherwise, byte for byte.
pub fn offered(headers: &HeaderMap) -> Version {
    let v2 = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .flat_map(|line| line.as_bytes().split(|&b| b == b','))
        .any(|token| token.trim_ascii() == SUBPROTOCOL.as_bytes());
    if v2 { Version::V2 } else { Version::V1 }
}

/// The upgrade answering with `version`: a v2 client is told
/// `Sec-WebSocket-Protocol: pairlink.v2` (a browser drops a connection whose offered
/// subprotocol is not answered), a v1 client gets no subprotocol.
pub fn select(version: Version, upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    match version {
        Version::V1 => upgrade,
        Version::V2 => upgrade.protocol(SUBPROTOCOL),
    }
}

/// The version a request asks for, as a handler's extractor.
impl<S: Send + Sync> FromRequestParts<S> for Version {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(offered(&parts.headers))
    }
}

/// How long a refused v2 connection may take to take its error and close frame, and
/// then to answer the close.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a connection is not accepted: the HTTP status v1 answers (v2 closes with 4000 +
/// it), the error code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Whole seconds to wait (`too_many_guesses`): HTTP `Retry-After`, v2 `retry_after`.
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// HTTP 503 / 4503 `server_full`: `--max-connections` WebSockets are open.
    pub fn server_full() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerFull,
            "the server is at its connection limit; retry later",
        )
    }

    /// The refusal for `version`: in-band when a v2 client sent a valid handshake,
    /// otherwise v1's HTTP answer. Nothing is registered for the connection either way.
    pub fn respond(self, version: Version, upgrade: Upgrade) -> Response {
        match (version, upgrade) {
            (Version::V2, Ok(upgrade)) => self.in_band(upgrade),
            _ => self.into_http(),
        }
    }

    /// v1's answer: the status with `{"status":"error","code":…,"message":…}`, and
    /// `Retry-After` when there is a wait.
    pub fn into_http(self) -> Response {
        let mut response = refuse(self.status, self.code, self.message);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }

    /// The close code of the in-band refusal: 4000 + the HTTP status.
    pub fn close_code(&self) -> u16 {
        4000 + self.status.as_u16()
    }

    /// Upgrades with `pairlink.v2`, sends the error, then closes with 4000 + status and
    /// the code as the reason.
    fn in_band(self, upgrade: WebSocketUpgrade) -> Response {
        METRICS.error(self.code);
        let close = CloseFrame {
            code: self.close_code().into(),
            reason: Utf8Bytes::from_static(self.code.as_str()),
        };
        let mut error = ErrorEvent::new(self.code, self.message);
        error.retry_after = self.retry_after;
        let text = Message::Text(serde_json::to_string(&error).expect("an error event serialises").into());
        select(Version::V2, upgrade).on_upgrade(small_buffers(), move |socket| refuse_in_band(socket, text, close))
    }
}

/// HTTP 503 / 4503 `broker_unavailable`: with `--redis-url`, Redis cannot be reached.
impl From<&Unavailable> for Refusal {
    fn from(unavailable: &Unavailable) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::BrokerUnavailable,
            format!("{unavailable}; retry shortly"),
        )
    }
}

/// HTTP 400 / 4400 `invalid_uuid`.
impl From<InvalidDeviceId> for Refusal {
    fn from(invalid: InvalidDeviceId) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidUuid, invalid.to_string())
    }
}

async fn refuse_in_band(mut socket: Socket, error: Message, close: CloseFrame) {
    tracing::debug!(code = u16::from(close.code), reason = %close.reason, "refusing a v2 connection in-band");
    let sent = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        socket.feed(error).await?;
        socket.send(Message::Close(Some(close))).await
    })
    .await;
    if matches!(sent, Ok(Ok(()))) {
        // Read until the client's close arrives (the stream then ends), discarding the rest.
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn offered(lines: &[&'static str]) -> Version {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(line));
        }
        super::offered(&headers)
    }

    #[test]
    fn v2_is_one_exact_token_among_any_number_of_lines() {
        for v2 in [
            &["pairlink.v2"][..],
            &["chat, pairlink.v2"],
            &["pairlink.v2,chat"],
            &["chat", " pairlink.v2 "],
            &["a,b", "c,\tpairlink.v2"],
        ] {
            assert_eq!(offered(v2), Version::V2, "{v2:?}");
        }
        for v1 in [
            &[][..],
            &["chat"],
            &["Pairlink.V2"],
            &["pairlink.v2x"],
            &["pairlink.v"],
            &["pairlink v2"],
            &["\"pairlink.v2\""],
            &[""],
        ] {
            assert_eq!(offered(v1), Version::V1, "{v1:?}");
        }
    }

    #[test]
    fn the_close_code_is_4000_plus_the_status() {
        let refusal = Refusal::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyGuesses, "wait");
        assert_eq!(refusal.close_code(), 4429);
        assert_eq!(
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServerFull, "").close_code(),
            4503
        );
    }

    #[test]
    fn the_http_answer_is_v1s_with_retry_after() {
        let response = Refusal::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyGuesses, "wait")
            .with_retry_after(42)
            .respond(
                Version::V2,
                Err(axum::extract::ws::rejection::WebSocketUpgradeRejection::from(
                    axum::extract::ws::rejection::MethodNotGet::default(),
                )),
            );
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
