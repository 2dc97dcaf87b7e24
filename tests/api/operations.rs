//! What an operator relies on: /metrics, /readyz, logs without secrets, and JSON logs.
//! Metrics and logs are process-wide, so these tests run pairlink as its own process.

use std::time::Duration;

use pairlink::db::Backend;

use crate::helpers::*;
use crate::process::ServerProcess;

const UUID: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

/// The value of one series in the exposition, e.g. `pairlink_errors_total{code="no_content"}`.
fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

async fn get(addr: std::net::SocketAddr, path: &str) -> HttpReply {
    http_to(addr, "GET", path).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_count_connections_messages_errors_closes_and_draws() {
    let server = ServerProcess::start(&[], &[]).await;
    let url = |path: &str| format!("ws://{}{path}", server.addr);
    let mut display = connect(&url(&format!("/ws/difficulty/unity/{UUID}"))).await.unwrap();
    let mut controller = connect(&url(&format!("/ws/difficulty/android/{UUID}"))).await.unwrap();
    for _ in 0..3 {
        send_text(&mut controller, r#"{"difficulty":1}"#).await;
        next_text(&mut display).await;
        next_text(&mut controller).await;
    }
    send_text(&mut controller, r#"{"difficulty":99}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "no_content");
    let _ = refusal(&url("/ws/difficulty/unity/nope")).await;

    let reply = get(server.addr, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = reply.body;
    let pairing =
        |metric: &str, role: &str| series(&text, &format!("{metric}{{endpoint=\"pairing\",role=\"{role}\"}}"));
    assert_eq!(pairing("pairlink_connections", "display"), 1.0);
    assert_eq!(pairing("pairlink_connections", "controller"), 1.0);
    assert_eq!(pairing("pairlink_messages_received_total", "controller"), 4.0);
    assert_eq!(pairing("pairlink_messages_sent_total", "controller"), 4.0);
    assert_eq!(pairing("pairlink_messages_sent_total", "display"), 3.0);
    assert_eq!(series(&text, "pairlink_errors_total{code=\"no_content\"}"), 1.0);
    assert_eq!(series(&text, "pairlink_errors_total{code=\"invalid_uuid\"}"), 1.0);
    assert_eq!(series(&text, "pairlink_draw_duration_seconds_count"), 3.0);

    // A replaced display is closed with 4001, and counted.
    let _newer = connect(&url(&format!("/ws/difficulty/unity/{UUID}"))).await.unwrap();
    assert_eq!(u16::from(next_close(&mut display).await.code), 4001);
    let text = get(server.addr, "/metrics").await.body;
    assert_eq!(series(&text, "pairlink_closes_total{code=\"4001\"}"), 1.0);
    server.stop().await;
}

/// Runs a display and a controller through a server with `args`; returns its log.
async fn pairing_session_log(args: &[&str], log_filter: &str) -> String {
    let server = ServerProcess::start(args, &[("RUST_LOG", log_filter)]).await;
    let url = |role: &str| format!("ws://{}/ws/difficulty/{role}/{UUID}", server.addr);
    let mut display = connect(&url("unity")).await.unwrap();
    let mut controller = connect(&url("android")).await.unwrap();
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    next_text(&mut display).await;
    next_text(&mut controller).await;
    drop((display, controller));
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop().await
}

/// The connection span of the first event logged with `message`.
fn span_of(log: &str, message: &str) -> serde_json::Value {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| event["fields"]["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} event in:\n{log}"))["span"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uuids_stay_out_of_logs_unless_asked() {
    let info = pairing_session_log(&[], "pairlink=info").await;
    assert!(!info.contains(UUID), "{info}");

    let debug = pairing_session_log(&["--log-format", "json"], "pairlink=debug").await;
    let span = span_of(&debug, "connected");
    assert!(span.get("subject").is_none(), "{span}");

    let with_ids = pairing_session_log(&["--log-format", "json", "--log-ids"], "pairlink=debug").await;
    assert_eq!(span_of(&with_ids, "connected")["subject"], UUID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn json_logs_carry_the_connection_span() {
    let server = ServerProcess::start(&["--log-format", "json"], &[("RUST_LOG", "pairlink=debug")]).await;
    let mut echo = connect(&format!("ws://{}/echo", server.addr)).await.unwrap();
    send_text(&mut echo, "hi").await;
    next_text(&mut echo).await;
    drop(echo);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.stop().await;
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}")))
        .collect();
    assert!(!events.is_empty());
    let span = span_of(&log, "connected");
    assert_eq!(
        (span["endpoint"].as_str(), span["role"].as_str()),
        (Some("echo"), Some("client"))
    );
    assert!(span["id"].as_u64().is_some(), "{span}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_follows_the_database() {
    let app = spawn_default(Backend::Postgres).await;
    let reply = http(&app, "GET", "/readyz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["checks"]["database"], "ok");
    assert_eq!(http(&app, "GET", "/healthz").await.status, 200);

    app.database.drop_now().await;
    let reply = http(&app, "GET", "/readyz").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["checks"]["database"].as_str().unwrap().starts_with("error"),
        "{body}"
    );
    assert_eq!(http(&app, "GET", "/healthz").await.status, 200, "alive, just not ready");
}
