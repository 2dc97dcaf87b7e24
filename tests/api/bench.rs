//! `pairlink bench` against a real server: it measures without errors and opens what it
//! is asked to. Timings depend on the machine, so none is asserted.

use std::time::Duration;

use pairlink::bench::connect::ServerUrl;
use pairlink::bench::idle::{self, IdleConfig};
use pairlink::bench::pairs::{self, PairsConfig};
use pairlink::db::Backend;

use crate::helpers::spawn_default;

fn pairs_config(url: ServerUrl, rate: Option<f64>) -> PairsConfig {
    PairsConfig {
        url,
        pairs: 4,
        duration: Duration::from_millis(800),
        warmup: Duration::from_millis(200),
        difficulty: 1,
        rate,
        timeout: Duration::from_secs(10),
        connect_concurrency: 8,
        progress: false,
    }
}

fn server_url(app: &crate::helpers::TestApp) -> ServerUrl {
    format!("ws://{}", app.addr).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_pairs_complete_round_trips_without_errors() {
    let app = spawn_default(Backend::Sqlite).await;

    let report = pairs::run(&pairs_config(server_url(&app), None)).await.unwrap();

    assert_eq!(report.pairs_connected, 4);
    assert!(report.round_trips > 0, "{report}");
    assert_eq!(report.errors_total, 0, "{report}");
    assert!(report.latency_us.max >= report.latency_us.p50, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_pairs_complete_round_trips_without_errors() {
    let app = spawn_default(Backend::Sqlite).await;

    let report = pairs::run(&pairs_config(server_url(&app), Some(200.0))).await.unwrap();

    assert!(report.requests > 0, "{report}");
    assert!(report.round_trips > 0, "{report}");
    assert_eq!(report.errors_total, 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_difficulty_without_content_is_counted_as_error_replies() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut config = pairs_config(server_url(&app), None);
    config.difficulty = 1_000_000;

    let report = pairs::run(&config).await.unwrap();

    assert_eq!(report.round_trips, 0, "{report}");
    assert!(
        report.errors.error_replies.get("no_content").copied().unwrap_or(0) > 0,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_opens_every_pair_and_reads_the_servers_memory() {
    let app = spawn_default(Backend::Sqlite).await;
    let config = IdleConfig {
        url: server_url(&app),
        pairs: 10,
        hold: Duration::from_millis(200),
        // The server runs in this process.
        pid: Some(std::process::id()),
        connect_concurrency: 4,
        progress: false,
    };

    let report = idle::run(&config).await.unwrap();

    assert_eq!(report.pairs_opened, 10, "{report}");
    assert_eq!(report.connections_opened, 20);
    assert_eq!(report.pairs_dropped, 0, "{report}");
    assert_eq!(report.errors_total, 0, "{report}");
    assert!(report.server_rss_after_kib.is_some());
}

#[tokio::test]
async fn an_unreachable_server_is_one_clear_error() {
    // Bind and drop a listener so the port is very likely free and refusing.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url: ServerUrl = format!("ws://127.0.0.1:{port}").parse().unwrap();

    let err = pairs::run(&pairs_config(url, None)).await.unwrap_err();

    let message = format!("{err:#}");
    assert!(
        message.starts_with("no pair could be opened on ws://127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_bench_delivers_every_message_to_every_member() {
    let app = spawn_default(Backend::Sqlite).await;
    let config = pairlink::bench::room::RoomConfig {
        url: server_url(&app),
        room: "bench".to_owned(),
        members: 20,
        senders: 2,
        rate: 100.0,
        duration: Duration::from_millis(500),
        connect_concurrency: 8,
    };

    let report = pairlink::bench::room::run(&config).await.unwrap();

    assert!(report.messages_sent > 0, "{report}");
    assert_eq!(report.deliveries, report.messages_sent * 20, "{report}");
    assert_eq!((report.missing, report.members_with_gaps, report.members_lost), (0, 0, 0), "{report}");
}
