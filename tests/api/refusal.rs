//! Negotiating v2 and refusing in-band: a client that offers `pairlink.v2` and sends a
//! valid handshake is upgraded, told the error and closed with 4000 + the HTTP status;
//! every other client gets v1's HTTP refusal. Checked on a small router of its own, and
//! on the real server's endpoints that already refuse this way (origins, `/ws/join`).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use futures_util::SinkExt;
use pairlink::db::Backend;
use pairlink::protocol::ErrorCode;
use pairlink::protocol::Version;
use pairlink::session::refusal::{self, Refusal};
use pairlink::session::{Socket, Upgrade};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::*;
use crate::schema;

/// `/refuse/{status}` refuses with that status (429 with a wait); `/accept` upgrades
/// with the version the client asked for and says it in a first message.
async fn small_server() -> SocketAddr {
    async fn refusing(Path(status): Path<u16>, version: Version, upgrade: Upgrade) -> Response {
        let (code, wait) = match status {
            400 => (ErrorCode::InvalidUuid, None),
            401 => (ErrorCode::TokenRequired, None),
            404 => (ErrorCode::UnknownCode, None),
            429 => (ErrorCode::TooManyGuesses, Some(42)),
            _ => (ErrorCode::ServerFull, None),
        };
        let mut refusal = Refusal::new(StatusCode::from_u16(status).unwrap(), code, "refused for the test");
        refusal.retry_after = wait;
        refusal.respond(version, upgrade)
    }
    async fn accepting(version: Version, upgrade: Upgrade) -> Response {
        let config = tungstenite::protocol::WebSocketConfig::default();
        refusal::select(version, upgrade.unwrap()).on_upgrade(config, move |mut socket: Socket| async move {
            let text = format!("{version:?}");
            let _ = socket.send(tungstenite::Message::Text(text.into())).await;
        })
    }
    let router = Router::new()
        .route("/refuse/{status}", get(refusing))
        .route("/accept", get(accepting));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A handshake for `url` offering each of `protocol_lines` as one header line.
fn offering(url: &str, protocol_lines: &[&'static str]) -> Request {
    let mut request = url.into_client_request().unwrap();
    for line in protocol_lines {
        request
            .headers_mut()
            .append("Sec-WebSocket-Protocol", HeaderValue::from_static(line));
    }
    request
}

/// Connects offering `protocol_lines`; expects the in-band refusal and returns its error
/// message, close code and reason.
async fn refused_in_band(url: &str, protocol_lines: &[&'static str]) -> (Value, u16, String) {
    let (mut ws, response) = tokio_tungstenite::connect_async(offering(url, protocol_lines))
        .await
        .unwrap_or_else(|err| panic!("{url}: a v2 client is upgraded, not refused: {err}"));
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["sec-websocket-protocol"], "pairlink.v2");
    let error = next_json(&mut ws).await;
    schema::assert_message("v2.refusal", &error);
    let close = next_close(&mut ws).await;
    (error, u16::from(close.code), close.reason.to_string())
}

#[tokio::test]
async fn a_v2_client_is_refused_in_band_with_4000_plus_the_status() {
    let addr = small_server().await;
    for (status, code) in [
        (400, "invalid_uuid"),
        (401, "token_required"),
        (404, "unknown_code"),
        (503, "server_full"),
    ] {
        let url = format!("ws://{addr}/refuse/{status}");
        let (error, close, reason) = refused_in_band(&url, &["pairlink.v2"]).await;
        assert_eq!(
            error,
            json!({"type": "error", "code": code, "message": "refused for the test"})
        );
        assert_eq!((close, reason.as_str()), (4000 + status, code));
    }
    let (error, close, _) = refused_in_band(&format!("ws://{addr}/refuse/429"), &["pairlink.v2"]).await;
    assert_eq!(error["retry_after"], 42);
    assert_eq!(close, 4429);
}

#[tokio::test]
async fn v2_may_be_offered_among_others_on_any_header_line() {
    let addr = small_server().await;
    let (_, close, _) = refused_in_band(&format!("ws://{addr}/refuse/404"), &["chat, pairlink.v2"]).await;
    assert_eq!(close, 4404);
    // Over two header lines (client libraries send one, so this is written by hand).
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let handshake = format!(
        "GET /refuse/404 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: mqtt,pairlink.v2 \r\n\r\n"
    );
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("\r\nsec-websocket-protocol: pairlink.v2\r\n"), "{head}");
    let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
        tokio_tungstenite::tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    assert_eq!(next_json(&mut ws).await["code"], "unknown_code");
    assert_eq!(u16::from(next_close(&mut ws).await.code), 4404);
    let accepted = |lines: &'static [&'static str]| {
        let url = format!("ws://{addr}/accept");
        async move {
            let (mut ws, response) = tokio_tungstenite::connect_async(offering(&url, lines)).await.unwrap();
            let protocol = response.headers().get("sec-websocket-protocol").cloned();
            (protocol, next_text(&mut ws).await)
        }
    };
    let (protocol, version) = accepted(&["chat, pairlink.v2"]).await;
    assert_eq!(
        (protocol.unwrap(), version.as_str()),
        (HeaderValue::from_static("pairlink.v2"), "V2")
    );
    let (protocol, version) = accepted(&[]).await;
    assert_eq!((protocol, version.as_str()), (None, "V1"));
}

#[tokio::test]
async fn everyone_else_gets_the_v1_http_refusal() {
    let addr = small_server().await;
    // No subprotocol, another one, or the name in another case (tokens are case-sensitive).
    for lines in [&[][..], &["chat"], &["Pairlink.V2"]] {
        let request = offering(&format!("ws://{addr}/refuse/429"), lines);
        let Err(tokio_tungstenite::tungstenite::Error::Http(response)) =
            tokio_tungstenite::connect_async(request).await
        else {
            panic!("{lines:?}: expected an HTTP refusal");
        };
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "42");
        let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
        assert_eq!(body["status"], "error");
        assert_eq!(body["code"], "too_many_guesses");
    }
    // v2 offered, but not a WebSocket handshake: nothing to upgrade, so HTTP.
    let reply = request(
        [127, 0, 0, 1].into(),
        addr,
        "GET",
        "/refuse/404",
        &[("Sec-WebSocket-Protocol", "pairlink.v2")],
    )
    .await;
    assert_eq!(
        (reply.status, reply.json()["code"].as_str()),
        (404, Some("unknown_code"))
    );
}

#[tokio::test]
async fn the_server_refuses_v2_joins_and_foreign_origins_in_band() {
    let app = spawn(Setup::new(Backend::Sqlite).config(|config| {
        config.codes.guesses = "1/1m".parse().unwrap();
        config.allowed_origins = Some(vec!["https://game.example.com".parse().unwrap()]);
    }))
    .await;
    let (error, close, reason) = refused_in_band(&app.ws_url("/ws/join/AAAAAA"), &["pairlink.v2"]).await;
    assert_eq!(
        (error["code"].as_str(), close, reason.as_str()),
        (Some("unknown_code"), 4404, "unknown_code")
    );
    let (error, close, _) = refused_in_band(&app.ws_url("/ws/join/AAAAAA"), &["pairlink.v2"]).await;
    assert_eq!((error["code"].as_str(), close), (Some("too_many_guesses"), 4429));
    assert!((1..=60).contains(&error["retry_after"].as_u64().unwrap()), "{error}");
    // v1 is unchanged.
    let (status, body) = refusal(&app.ws_url("/ws/join/AAAAAA")).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("too_many_guesses")));

    let mut from_evil = offering(&app.ws_url("/echo"), &["pairlink.v2"]);
    from_evil
        .headers_mut()
        .insert("Origin", HeaderValue::from_static("https://evil.example"));
    let (mut ws, response) = tokio_tungstenite::connect_async(from_evil).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "pairlink.v2");
    let error = next_json(&mut ws).await;
    schema::assert_message("v2.refusal", &error);
    assert_eq!(error["code"], "origin_not_allowed");
    let close = next_close(&mut ws).await;
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (4403, "origin_not_allowed")
    );
}
