//! The web console (`/` and `/console/…`) and the numbers its status panel reads
//! (`GET /api/stats`). What the page does in a browser is tested in `tests/browser/`.

use std::time::Duration;

use pairlink::db::Backend;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::Value;

use crate::helpers::*;

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", app.addr))
        .await
        .expect("the server answers")
}

async fn stats(app: &TestApp) -> Value {
    let response = get(app, "/api/stats").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    response.json().await.expect("JSON")
}

/// Reads `/api/stats` until `done` holds: connections register and leave as their
/// tasks run, a moment after the client sees its socket open or closed.
async fn stats_when(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stats = stats(app).await;
        if done(&stats) {
            return stats;
        }
        assert!(tokio::time::Instant::now() < deadline, "stats never got there: {stats}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every count of `stats` is 0.
fn assert_nobody(stats: &Value) {
    let counts = [
        "displays",
        "controllers",
        "rooms",
        "room_members",
        "signal_rooms",
        "signal_peers",
        "hub_clients",
        "connections",
    ];
    for field in counts {
        assert_eq!(stats[field], 0, "{field} with nobody connected: {stats}");
    }
}

#[tokio::test]
async fn the_console_page_and_its_files_are_served_with_their_content_types() {
    let app = spawn_default(Backend::Sqlite).await;

    let page = get(&app, "/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
    assert!(
        page.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>pairlink console</title>"));
    assert!(html.contains(r#"<meta name="viewport""#));

    for (file, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("pair.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let response = get(&app, &format!("/console/{file}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(response.headers()[CONTENT_TYPE], content_type, "{file}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{file}");
    }
    assert_eq!(get(&app, "/console/nope.js").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_phone_page_is_served_for_any_code_with_the_sdk_it_runs_on() {
    let app = spawn_default(Backend::Sqlite).await;

    // The page reads the code from its path; whether it is live is the server's to say
    // when the page joins with it, so an unknown code still gets the page.
    for path in ["/join/K7M2QX", "/join/k7m2qx", "/join/nope"] {
        let page = get(&app, path).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let policy = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        let html = page.text().await.unwrap();
        assert!(html.contains("<title>pairlink controller</title>"));
        assert!(html.contains(r#"src="/console/join.js""#));
    }
    assert_eq!(get(&app, "/join/").await.status(), StatusCode::NOT_FOUND);

    let sdk = get(&app, "/console/pairlink-client.js").await;
    assert_eq!(sdk.status(), StatusCode::OK);
    assert_eq!(sdk.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    let source = sdk.text().await.unwrap();
    assert!(source.contains("pairlink.v2"), "the SDK speaks protocol v2");
    assert!(source.contains("export {"), "an ES module");
}

#[tokio::test]
async fn a_browser_with_the_current_copy_gets_304() {
    let app = spawn_default(Backend::Sqlite).await;
    let first = get(&app, "/console/app.js").await;
    let etag = first.headers()[ETAG].clone();

    let again = reqwest::Client::new()
        .get(format!("http://{}/console/app.js", app.addr))
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();

    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag);
    assert!(again.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn stats_count_what_is_connected_and_forget_what_left() {
    let app = spawn_default(Backend::Sqlite).await;
    let idle = stats(&app).await;
    assert_nobody(&idle);
    assert!(idle["messages_per_second"].is_number());
    assert!(idle["uptime_seconds"].is_u64());

    let uuid = "de358130-e94a-5692-8b09-d27007ad1944";
    let display = app.display(uuid).await;
    let controller = app.controller(uuid).await;
    let ana = connect(&app.ws_url("/ws/rooms/lobby?name=Ana")).await.unwrap();
    let bo = connect(&app.ws_url("/ws/rooms/lobby")).await.unwrap();
    let other_room = connect(&app.ws_url("/ws/rooms/kitchen")).await.unwrap();
    let peer = connect(&app.ws_url("/ws/signal/call")).await.unwrap();
    let hub = connect(&app.ws_url("/ws")).await.unwrap();

    let busy = stats_when(&app, |s| {
        s["connections"] == 7 && s["hub_clients"] == 1 && s["signal_peers"] == 1
    })
    .await;
    assert_eq!(busy["displays"], 1);
    assert_eq!(busy["controllers"], 1);
    assert_eq!(busy["rooms"], 2);
    assert_eq!(busy["room_members"], 3);
    assert_eq!(busy["signal_rooms"], 1);

    drop((display, controller, ana, bo, other_room, peer, hub));
    let after = stats_when(&app, |s| s["connections"] == 0).await;
    assert_nobody(&after);
}

#[tokio::test]
async fn messages_per_second_counts_the_traffic_of_the_last_second() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut echo = connect(&app.ws_url("/echo")).await.unwrap();

    // Other tests in this process count too (the counters are process-wide), so this
    // only checks that this traffic shows: 50 messages each way within a second.
    let busy = async {
        loop {
            for _ in 0..50 {
                send_text(&mut echo, "ping").await;
                next(&mut echo).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let seen = tokio::select! {
        stats = stats_when(&app, |s| s["messages_per_second"].as_f64().unwrap() >= 100.0) => stats,
        () = busy => unreachable!(),
    };
    assert!(seen["messages_per_second"].as_f64().unwrap() >= 100.0);
}
