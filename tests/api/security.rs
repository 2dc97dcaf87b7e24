//! Connection tokens (`--auth-secret`, `pairlink token`) and browser origins
//! (`--allowed-origins`, CORS).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pairlink::auth::{self, AuthSecret, Scope};
use pairlink::db::Backend;

use crate::cli::pairlink;
use crate::helpers::*;

const UUID: &str = "2b4d6f80-1a3c-4e5f-9b7d-0c2e4f6a8b1d";
const OTHER: &str = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

fn secret() -> AuthSecret {
    SECRET.parse().unwrap()
}

fn token(scope: Scope) -> String {
    auth::issue(&secret(), &scope, Duration::from_secs(300))
}

fn device(uuid: &str) -> Scope {
    Scope::Device(uuid.parse().unwrap())
}

/// A WebSocket handshake request with extra headers.
fn handshake(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> tokio_tungstenite::tungstenite::http::Request<()> {
    let mut request = tokio_tungstenite::tungstenite::http::Request::builder()
        .uri(app.ws_url(path))
        .header("Host", app.addr.to_string())
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header(
            "Sec-WebSocket-Key",
            tokio_tungstenite::tungstenite::handshake::client::generate_key(),
        );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).unwrap()
}

/// A token whose `sub` is exactly `sub`, as another JWT library would write it.
fn issue_for_sub(sub: &str) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 300;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": sub, "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn secured() -> TestApp {
    spawn(Setup::new(Backend::Sqlite).config(|config| config.auth_secret = Some(secret()))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_websocket_needs_a_token_for_its_own_scope() {
    let app = secured().await;
    let endpoints = [
        (format!("/ws/difficulty/unity/{UUID}"), device(UUID)),
        ("/ws/rooms/lobby".to_owned(), Scope::Room("lobby".parse().unwrap())),
        ("/ws/signal/call".to_owned(), Scope::Signal("call".parse().unwrap())),
        ("/ws".to_owned(), Scope::Hub),
        ("/echo".to_owned(), Scope::Echo),
    ];
    for (path, scope) in endpoints {
        let (status, body) = refusal(&app.ws_url(&path)).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("token_required")), "{path}");
        let wrong = token(device(OTHER));
        let (status, body) = refusal(&app.ws_url(&format!("{path}?token={wrong}"))).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("token_invalid")), "{path}");
        let right = token(scope);
        connect(&app.ws_url(&format!("{path}?token={right}")))
            .await
            .unwrap_or_else(|err| panic!("{path} with its token: {err}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pair_with_tokens_works_as_usual_and_joining_by_code_needs_none() {
    let app = secured().await;
    let display_token = token(device(UUID));
    let mut display = connect(&app.ws_url(&format!("/ws/difficulty/unity/{UUID}?token={display_token}")))
        .await
        .unwrap();
    // Native clients may use the Authorization header instead of the query.
    let bearer = format!("Bearer {}", token(device(UUID)));
    let request = handshake(
        &app,
        &format!("/ws/difficulty/android/{UUID}"),
        &[("Authorization", &bearer)],
    );
    let (mut controller, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("bearer token accepted");
    // The scheme in any case, and a backend that writes the UUID in capitals.
    let shouted = format!("BEARER {}", issue_for_sub(&UUID.to_uppercase()));
    let request = handshake(
        &app,
        &format!("/ws/difficulty/android/{UUID}"),
        &[("Authorization", &shouted)],
    );
    let (mut controller_again, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("BEARER and an upper-case UUID accepted");
    assert_eq!(u16::from(next_close(&mut controller).await.code), 4001);
    send_text(&mut controller_again, r#"{"difficulty":1}"#).await;
    assert!(next_json(&mut display).await["quiz_id"].is_array());
    assert_eq!(next_text(&mut controller_again).await, r#"{"status":"received"}"#);

    // The display's pairing code needs the UUID's token; joining with the code does not.
    let path = format!("/api/pairings/{UUID}/code");
    assert_eq!(http(&app, "POST", &path).await.json()["code"], "token_required");
    let reply = http(&app, "POST", &format!("{path}?token={display_token}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let code = reply.json()["code"].as_str().unwrap().to_owned();
    connect(&app.ws_url(&format!("/ws/join/{code}")))
        .await
        .expect("the code is the credential");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_and_forged_tokens_are_refused_with_their_reason() {
    let app = secured().await;
    let expired = {
        let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() - 600;
        let claims = serde_json::json!({"sub": UUID, "exp": exp});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let forged = auth::issue(
        &"another-secret-of-at-least-32-bytes!".parse().unwrap(),
        &device(UUID),
        Duration::from_secs(300),
    );
    for (token, code) in [
        (expired.as_str(), "token_expired"),
        (forged.as_str(), "token_invalid"),
        ("garbage", "token_invalid"),
    ] {
        let (status, body) = refusal(&app.ws_url(&format!("/ws/difficulty/unity/{UUID}?token={token}"))).await;
        assert_eq!((status, body["code"].as_str()), (401, Some(code)));
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Without --auth-secret nothing changes for existing clients.
    let open = spawn_default(Backend::Sqlite).await;
    open.display(UUID).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pairlink_token_issues_what_the_server_accepts() {
    let app = secured().await;
    let dir = tempfile::tempdir().unwrap();
    let out = pairlink(
        dir.path(),
        &["token", "--uuid", UUID, "--ttl", "5m", "--auth-secret", SECRET],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let issued = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    connect(&app.ws_url(&format!("/ws/difficulty/unity/{UUID}?token={issued}")))
        .await
        .expect("the issued token is accepted");

    // A token for the display alone does not open the controller's side. (`--secret` is
    // the flag's former name, still accepted.)
    let out = pairlink(
        dir.path(),
        &["token", "--uuid", UUID, "--role", "display", "--secret", SECRET],
    );
    let display_only = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    connect(&app.ws_url(&format!("/ws/difficulty/unity/{OTHER}?token={display_only}")))
        .await
        .expect_err("another UUID");
    let _display = connect(&app.ws_url(&format!("/ws/difficulty/unity/{UUID}?token={display_only}")))
        .await
        .expect("its display");
    let (status, body) = refusal(&app.ws_url(&format!("/ws/difficulty/android/{UUID}?token={display_only}"))).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("token_invalid")));

    for args in [
        &["token", "--auth-secret", SECRET][..],
        &["token", "--auth-secret", SECRET, "--hub", "--role", "display"],
        &["token", "--auth-secret", SECRET, "--hub", "--echo"],
        &["token", "--auth-secret", "short", "--hub"],
        &["token", "--auth-secret", SECRET, "--uuid", "nope"],
        &["token", "--auth-secret", SECRET, "--hub", "--ttl", "0s"],
    ] {
        let out = pairlink(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_listed_origins_may_connect_from_a_browser() {
    let app = spawn(Setup::new(Backend::Sqlite).config(|config| {
        config.allowed_origins = Some(vec!["https://game.example.com".parse().unwrap()]);
    }))
    .await;
    let echo_from = |origin: Option<&'static str>| {
        let headers: Vec<(&str, &str)> = origin.map(|origin| ("Origin", origin)).into_iter().collect();
        tokio_tungstenite::connect_async(handshake(&app, "/echo", &headers))
    };
    echo_from(Some("https://game.example.com"))
        .await
        .expect("a listed origin");
    echo_from(None).await.expect("native apps send no origin");
    let Err(tokio_tungstenite::tungstenite::Error::Http(refused)) = echo_from(Some("https://evil.example")).await
    else {
        panic!("an unlisted origin was let in");
    };
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = serde_json::from_slice(refused.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["code"], "origin_not_allowed");

    // CORS for the HTTP API follows the same list.
    let preflight = |origin: &'static str| {
        let addr = app.addr;
        async move {
            request(
                [127, 0, 0, 1].into(),
                addr,
                "OPTIONS",
                "/api/quizzes",
                &[("Origin", origin), ("Access-Control-Request-Method", "POST")],
            )
            .await
        }
    };
    let allowed = preflight("https://game.example.com").await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://game.example.com")
    );
    let denied = preflight("https://evil.example").await;
    assert_eq!(denied.header("access-control-allow-origin"), None);
}
