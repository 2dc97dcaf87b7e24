//! `pairlink bench` against a real server: it measures without errors and opens what it
//! is asked to. Timings depend on the machine, so none is asserted.

use std::time::Duration;

use pairlink::bench::connect::ServerUrl;
use pairlink::bench::idle::{self, IdleConfig};
use pairlink::bench::pairs::{self, PairsConfig};
use pairlink::bench::relay::{self, Directions, RelayConfig};
use pairlink::bench::relay_report::{Flow, RelayReport};
use pairlink::db::Backend;
use tokio_util::sync::CancellationToken;

use crate::deployment::{BrokerKind, Deployment};
use crate::helpers::spawn_default;
use crate::on_both_brokers;

fn pairs_config(url: ServerUrl, rate: Option<f64>) -> PairsConfig {
    PairsConfig {
        url,
        controller_url: None,
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
        controller_url: None,
        pairs: 10,
        hold: Duration::from_millis(200),
        end_hold: CancellationToken::new(),
        // The server runs in this process.
        pids: vec![std::process::id()],
        connect_concurrency: 4,
        progress: false,
    };

    let report = idle::run(&config).await.unwrap();

    assert_eq!(report.pairs_opened, 10, "{report}");
    assert_eq!(report.connections_opened, 20);
    assert_eq!(report.pairs_dropped, 0, "{report}");
    assert_eq!(report.errors_total, 0, "{report}");
    assert!(report.server_rss_after_kib.is_some());
    assert_eq!(report.servers.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_connect_to_the_controller_url() {
    // Two servers that share nothing: a controller on the second finds no display there.
    let displays = spawn_default(Backend::Sqlite).await;
    let controllers = spawn_default(Backend::Sqlite).await;
    let mut config = pairs_config(server_url(&displays), None);
    config.controller_url = Some(server_url(&controllers));

    let err = pairs::run(&config).await.unwrap_err();

    let message = format!("{err:#}");
    let expected = format!("(controllers on {})", server_url(&controllers));
    assert!(message.contains(&expected), "{message}");
    assert!(message.contains("refused the controller with HTTP 400"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_url_is_reported_several_pids_are_measured_and_the_hold_can_end_sooner() {
    let app = spawn_default(Backend::Sqlite).await;
    let config = IdleConfig {
        url: server_url(&app),
        controller_url: Some(server_url(&app)),
        pairs: 4,
        hold: Duration::from_secs(3600),
        end_hold: CancellationToken::new(),
        pids: vec![std::process::id(), std::process::id()],
        connect_concurrency: 4,
        progress: false,
    };

    // Ended sooner than --hold: still closed and reported.
    config.end_hold.cancel();
    let report = idle::run(&config).await.unwrap();

    assert_eq!(report.pairs_opened, 4, "{report}");
    assert!(report.hold_s < 60.0, "{report}");
    assert_eq!(report.controller_url, Some(server_url(&app).to_string()));
    assert_eq!(report.servers.len(), 2);
    let summed: u64 = report.servers.iter().map(|server| server.rss_after_kib).sum();
    assert_eq!(report.server_rss_after_kib, Some(summed));
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
        urls: vec![server_url(&app)],
        room: "bench".to_owned(),
        members: 20,
        senders: 2,
        rate: 100.0,
        duration: Duration::from_millis(500),
        connect_concurrency: 8,
        notices: true,
        pids: Vec::new(),
    };

    let report = pairlink::bench::room::run(&config).await.unwrap();

    assert!(report.messages_sent > 0, "{report}");
    assert_eq!(report.deliveries, report.messages_sent * 20, "{report}");
    assert_eq!(
        (report.missing, report.members_with_gaps, report.members_lost),
        (0, 0, 0),
        "{report}"
    );
    // Every member hears of every later join: 19 + 18 + … + 1.
    assert_eq!((report.members_with_notices, report.notices), (20, 190), "{report}");
}

fn relay_config(url: ServerUrl, rate: Option<f64>, directions: Directions) -> RelayConfig {
    RelayConfig {
        url,
        controller_url: None,
        pairs: 4,
        duration: Duration::from_millis(600),
        warmup: Duration::from_millis(200),
        rate,
        directions,
        payload_bytes: 0,
        binary: false,
        timeout: Duration::from_secs(10),
        pids: Vec::new(),
        connect_concurrency: 8,
        progress: false,
    }
}

/// What a user of `bench relay` relies on: every message sent in the window arrived,
/// none skipped or reordered, no error, and the directions add up to the total.
fn assert_all_delivered_in_order(report: &RelayReport) {
    let Flow {
        sent,
        delivered,
        lost,
        gaps,
        out_of_order,
        ..
    } = report.total;
    assert!(sent > 0, "{report}");
    assert_eq!(delivered, sent, "{report}");
    assert_eq!((lost, gaps, out_of_order), (0, 0, 0), "{report}");
    assert_eq!(report.errors_total, 0, "{report}");
    let ways: Vec<&Flow> = [&report.to_display, &report.to_controller]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ways.iter().map(|way| way.sent).sum::<u64>(), sent, "{report}");
    assert_eq!(ways.iter().map(|way| way.delivered).sum::<u64>(), delivered, "{report}");
    for way in ways {
        assert!(way.sent > 0, "{report}");
        assert_eq!((way.lost, way.gaps, way.out_of_order), (0, 0, 0), "{report}");
    }
}

on_both_brokers!(a_relay_bench_delivers_every_message_both_ways_in_order);

async fn a_relay_bench_delivers_every_message_both_ways_in_order(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let node = |i: usize| -> ServerUrl { format!("ws://{}", app.addr(i)).parse().unwrap() };
    let mut config = relay_config(node(0), Some(100.0), Directions::Both);
    // On a cluster, each pair spans the two nodes.
    config.controller_url = Some(node(app.node_count() - 1));

    let report = relay::run(&config).await.unwrap();

    assert_eq!(report.pairs_connected, 4, "{report}");
    assert!(
        report.to_display.is_some() && report.to_controller.is_some(),
        "{report}"
    );
    assert_all_delivered_in_order(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_one_way_binary_relay_bench_counts_only_that_way() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut config = relay_config(server_url(&app), None, Directions::ToDisplay);
    config.binary = true;
    config.payload_bytes = 200;
    // The server runs in this process.
    config.pids = vec![std::process::id()];

    let report = relay::run(&config).await.unwrap();

    assert_eq!(report.to_controller.as_ref().map(|way| way.sent), None, "{report}");
    assert_all_delivered_in_order(&report);
    assert_eq!(report.servers.len(), 1);
    assert!(report.server_cpu_us_per_message.is_some(), "{report}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["directions"], "to-display");
    assert_eq!(json["pacing"], "closed_loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_controller_refused_in_band_is_one_clear_error() {
    // Two servers that share nothing: a v2 controller on the second is told in-band that
    // its display is offline, tries again, and the bench gives up with that reason.
    let displays = spawn_default(Backend::Sqlite).await;
    let controllers = spawn_default(Backend::Sqlite).await;
    let mut config = relay_config(server_url(&displays), Some(60.0), Directions::Both);
    config.controller_url = Some(server_url(&controllers));

    let err = relay::run(&config).await.unwrap_err();

    let message = format!("{err:#}");
    assert!(message.starts_with("no pair could be opened on"), "{message}");
    assert!(
        message.contains("refused the controller in-band with display_offline"),
        "{message}"
    );
}
