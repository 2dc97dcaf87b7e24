//! What the real server refuses, for a v2 client: upgraded, told the error in-band, then
//! closed with 4000 + the HTTP status v1 would have answered, with the code as reason.
//! Nothing is registered for a refused connection. (The mechanism alone, on a small
//! router, is in `refusal.rs`.)

use std::time::Duration;

use pairlink::auth::{self, AuthSecret, Scope};
use pairlink::session::Limits;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;
use crate::schema;
use crate::v2_client::{self, CONTROLLER, DISPLAY, expect};

const UUID: &str = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

on_both_brokers!(
    url_and_pairing_refusals_are_4400_in_band,
    token_refusals_are_4401_and_register_nothing,
    an_unlisted_origin_is_4403,
    unknown_codes_are_4404_and_too_many_guesses_4429_with_retry_after,
    a_full_server_is_4503,
    group_endpoints_refuse_in_band_too,
);

/// Connects offering v2 (with extra headers); returns the error, the close code and reason.
async fn refused(url: &str, headers: &[(&'static str, &str)]) -> (Value, u16, String) {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("pairlink.v2"));
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|err| panic!("{url}: a v2 client is upgraded, not refused: {err}"));
    assert_eq!(response.headers()["sec-websocket-protocol"], "pairlink.v2");
    let error = next_json(&mut ws).await;
    schema::assert_message("v2.refusal", &error);
    let close = next_close(&mut ws).await;
    (error, u16::from(close.code), close.reason.to_string())
}

fn code_and_close(refusal: &(Value, u16, String)) -> (&str, u16, &str) {
    (refusal.0["code"].as_str().unwrap(), refusal.1, refusal.2.as_str())
}

async fn url_and_pairing_refusals_are_4400_in_band(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    for role in ["unity", "android"] {
        let refusal = refused(&app.url(0, &format!("/ws/difficulty/{role}/not-a-uuid")), &[]).await;
        assert_eq!(code_and_close(&refusal), ("invalid_uuid", 4400, "invalid_uuid"));
    }
    let controller = app.url(0, &format!("/ws/difficulty/android/{UUID}"));
    let refusal = refused(&controller, &[]).await;
    assert_eq!(code_and_close(&refusal), ("display_offline", 4400, "display_offline"));
    // v1 still gets its HTTP 400.
    assert_eq!(refusal_status(&controller).await, 400);
}

async fn refusal_status(url: &str) -> u16 {
    crate::helpers::refusal(url).await.0
}

fn secured() -> Options {
    Options::new().config(|config| config.auth_secret = Some(SECRET.parse::<AuthSecret>().unwrap()))
}

async fn token_refusals_are_4401_and_register_nothing(broker: BrokerKind) {
    let app = Deployment::with(broker, secured()).await;
    let display = app.url(0, &format!("/ws/difficulty/unity/{UUID}"));
    let refusal = refused(&display, &[]).await;
    assert_eq!(code_and_close(&refusal), ("token_required", 4401, "token_required"));
    let refusal = refused(&format!("{display}?token=nonsense"), &[]).await;
    assert_eq!(code_and_close(&refusal), ("token_invalid", 4401, "token_invalid"));
    let secret: AuthSecret = SECRET.parse().unwrap();
    let expired = expired_token();
    let refusal = refused(&display, &[("Authorization", &format!("bearer {expired}"))]).await;
    assert_eq!(code_and_close(&refusal), ("token_expired", 4401, "token_expired"));

    // None of them holds the UUID: a controller with a good token finds no display.
    let token = auth::issue(&secret, &Scope::Device(UUID.parse().unwrap()), Duration::from_secs(60));
    let controller = app.url(
        app.node_count() - 1,
        &format!("/ws/difficulty/android/{UUID}?token={token}"),
    );
    let refusal = refused(&controller, &[]).await;
    assert_eq!(code_and_close(&refusal), ("display_offline", 4400, "display_offline"));
    // With its token, the display is let in.
    let mut display = v2_client::connect_v2(&format!("{display}?token={token}")).await;
    expect(&mut display, DISPLAY, "welcome").await;
    let mut controller = v2_client::connect_v2(&controller).await;
    expect(&mut controller, CONTROLLER, "welcome").await;
}

/// A token whose `exp` passed an hour ago: beyond the accepted clock difference.
fn expired_token() -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": UUID, "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn an_unlisted_origin_is_4403(broker: BrokerKind) {
    let options = Options::new().config(|config| {
        config.allowed_origins = Some(vec!["https://game.example.com".parse().unwrap()]);
    });
    let app = Deployment::with(broker, options).await;
    for path in ["/echo".to_owned(), format!("/ws/difficulty/unity/{UUID}")] {
        let refusal = refused(&app.url(0, &path), &[("Origin", "https://evil.example")]).await;
        assert_eq!(
            code_and_close(&refusal),
            ("origin_not_allowed", 4403, "origin_not_allowed"),
            "{path}"
        );
    }
}

async fn unknown_codes_are_4404_and_too_many_guesses_4429_with_retry_after(broker: BrokerKind) {
    let options = Options::new().config(|config| config.codes.guesses = "2/1m".parse().unwrap());
    let app = Deployment::with(broker, options).await;
    for (node, code) in [(0, "AAAAAA"), (1, "BBBBBB")] {
        let refusal = refused(&app.url(node, &format!("/ws/join/{code}")), &[]).await;
        assert_eq!(code_and_close(&refusal), ("unknown_code", 4404, "unknown_code"));
    }
    let (error, close, reason) = refused(&app.url(0, "/ws/join/CCCCCC"), &[]).await;
    assert_eq!(
        (error["code"].as_str(), close, reason.as_str()),
        (Some("too_many_guesses"), 4429, "too_many_guesses")
    );
    let wait = error["retry_after"].as_u64().expect("retry_after in seconds");
    assert!((1..=60).contains(&wait));
}

async fn a_full_server_is_4503(broker: BrokerKind) {
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let app = Deployment::with(broker, Options::new().limits(limits)).await;
    let _taken = connect(&app.url(0, "/echo")).await.expect("the one slot");
    let refusal = refused(&app.url(0, &format!("/ws/difficulty/unity/{UUID}")), &[]).await;
    assert_eq!(code_and_close(&refusal), ("server_full", 4503, "server_full"));
}

async fn group_endpoints_refuse_in_band_too(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    for (path, code) in [
        ("/ws/rooms/no%20spaces", "invalid_room"),
        ("/ws/rooms/lobby?name=", "invalid_name"),
        ("/ws/rooms/lobby?since=-1", "invalid_since"),
        ("/ws/rooms/lobby?notices=1", "invalid_notices"),
        ("/ws/signal/a%2Fb", "invalid_room"),
    ] {
        let refusal = refused(&app.url(0, path), &[]).await;
        assert_eq!(code_and_close(&refusal), (code, 4400, code), "{path}");
    }
    let secured = Deployment::with(broker, secured()).await;
    for path in ["/ws", "/echo", "/ws/rooms/lobby", "/ws/signal/call"] {
        let refusal = refused(&secured.url(0, path), &[]).await;
        assert_eq!(
            code_and_close(&refusal),
            ("token_required", 4401, "token_required"),
            "{path}"
        );
    }
    // Accepted, a v2 client of a group endpoint is answered with the subprotocol and
    // reads the endpoint's own messages.
    let mut member = v2_client::connect_v2(&app.url(0, "/ws/rooms/lobby")).await;
    assert_eq!(next_json(&mut member).await["type"], "welcome");
}
