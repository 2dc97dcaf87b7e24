//! `bench idle`: opens many pairs that send nothing and holds them, to see how many a
//! server accepts, how fast, and (for local servers, `--pid`) what each costs in
//! resident memory. With displays and controllers on two nodes of a cluster, both
//! nodes' PIDs give each node's growth and the cost per connection over both.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::connect::{Connector, Pair, ServerUrl, close, ensure_file_limit, open_pairs};
use super::procfs::all_rss_kib;
use super::progress;
use super::report::{IdleReport, ServerMemory};

/// Time allowed after the last handshake for the server to finish setting up its
/// connections (its per-connection task starts after the 101 goes out).
const SETTLE: Duration = Duration::from_millis(500);

/// What `bench idle` does.
#[derive(Debug, Clone)]
pub struct IdleConfig {
    pub url: ServerUrl,
    /// Where controllers connect, if not to `url`: another node of the same cluster.
    pub controller_url: Option<ServerUrl>,
    pub pairs: usize,
    /// How long to keep the pairs open once they all are.
    pub hold: Duration,
    /// Cancelled to end the hold sooner; the pairs are closed and reported all the same.
    /// (`pairlink bench idle` cancels it on SIGINT or SIGTERM.)
    pub end_hold: CancellationToken,
    /// The servers' process ids, when they run on this machine: their RSS is measured.
    pub pids: Vec<u32>,
    /// WebSocket handshakes in progress at once.
    pub connect_concurrency: usize,
    /// Draw progress bars on a terminal's stderr.
    pub progress: bool,
}

/// Opens the pairs, holds them, closes them, and reports.
pub async fn run(config: &IdleConfig) -> anyhow::Result<IdleReport> {
    ensure_file_limit(config.pairs)?;
    // Split over two servers, each holds one side of every pair.
    let per_server = if config.controller_url.is_some() {
        config.pairs
    } else {
        2 * config.pairs
    };
    for &pid in &config.pids {
        warn_if_server_limit_is_low(pid, per_server);
    }
    let rss_before = all_rss_kib(&config.pids)?;
    let connector = Connector::resolve(&config.url, config.controller_url.as_ref()).await?;

    let started = Instant::now();
    let (opened, mut errors) =
        open_pairs(&connector, config.pairs, config.connect_concurrency, config.progress).await?;
    let open_s = started.elapsed().as_secs_f64();
    let pairs_opened = opened.len();
    let controller_retries = opened.iter().map(|pair| u64::from(pair.controller_retries)).sum();
    let stop = CancellationToken::new();
    let holders: Vec<_> = opened
        .into_iter()
        .map(|pair| tokio::spawn(hold(pair, stop.clone())))
        .collect();

    tokio::time::sleep(SETTLE).await;
    let rss_after = all_rss_kib(&config.pids)?;

    // A script holding several benches' pairs at once waits for this line from each.
    tracing::info!(pairs = pairs_opened, "all pairs opened; holding them");
    let bar = progress::timer(config.progress, config.hold);
    let held_from = Instant::now();
    let ticker = tokio::spawn(progress::tick_time(bar.clone(), held_from));
    bar.set_message(format!("holding {pairs_opened} pairs"));
    tokio::select! {
        () = tokio::time::sleep(config.hold) => {}
        () = config.end_hold.cancelled() => {}
    }
    let hold_s = held_from.elapsed().as_secs_f64();
    stop.cancel();
    let mut pairs_dropped = 0;
    for holder in holders {
        let dropped = match holder.await {
            Ok(Ok(())) => continue,
            Ok(Err(why)) => why,
            Err(err) => format!("a pair's task failed: {err}"),
        };
        pairs_dropped += 1;
        errors.connection_failures += 1;
        errors.note(|| dropped);
    }
    ticker.abort();
    bar.finish_and_clear();

    let connections_opened = 2 * pairs_opened;
    let servers: Vec<_> = config
        .pids
        .iter()
        .zip(rss_before.into_iter().zip(rss_after))
        .map(|(&pid, (rss_before_kib, rss_after_kib))| ServerMemory {
            pid,
            rss_before_kib,
            rss_after_kib,
        })
        .collect();
    Ok(IdleReport {
        url: connector.url().to_string(),
        controller_url: connector.controller_url().map(ToString::to_string),
        pairs: config.pairs,
        pairs_opened,
        connections_opened,
        controller_retries,
        open_s,
        connections_per_s: connections_opened as f64 / open_s.max(1e-6),
        hold_s,
        pairs_dropped,
        server_rss_before_kib: ServerMemory::sum(&servers, |server| server.rss_before_kib),
        server_rss_after_kib: ServerMemory::sum(&servers, |server| server.rss_after_kib),
        server_kib_per_connection: ServerMemory::per_connection(&servers, connections_opened),
        servers,
        errors_total: errors.total(),
        errors,
    })
}

/// Keeps a pair open until `stop`, reading (so that pings are answered and a close is
/// seen). Fails with the reason if the server ends either connection first.
async fn hold(mut pair: Pair, stop: CancellationToken) -> Result<(), String> {
    let kept = loop {
        tokio::select! {
            () = stop.cancelled() => break Ok(()),
            frame = pair.display.next() => if let Some(why) = ended(frame) {
                break Err(format!("the display's connection ended during the hold: {why}"));
            },
            frame = pair.controller.next() => if let Some(why) = ended(frame) {
                break Err(format!("the controller's connection ended during the hold: {why}"));
            },
        }
    };
    close(&mut pair.display).await;
    close(&mut pair.controller).await;
    kept
}

/// Why a connection is over, if this read says it is.
fn ended(frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> Option<String> {
    match frame {
        Some(Ok(Message::Close(Some(frame)))) => {
            Some(format!("closed with {} {}", u16::from(frame.code), frame.reason))
        }
        Some(Ok(Message::Close(None))) => Some("closed".to_owned()),
        Some(Ok(_)) => None,
        Some(Err(err)) => Some(err.to_string()),
        None => Some("dropped".to_owned()),
    }
}

/// Warns when the server's own open-file limit is below what the run needs: its
/// refusals would otherwise look like a bench failure.
fn warn_if_server_limit_is_low(pid: u32, connections: usize) {
    let Ok(limits) = std::fs::read_to_string(format!("/proc/{pid}/limits")) else {
        return;
    };
    let soft = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse::<u64>().ok());
    if let Some(soft) = soft.filter(|&soft| soft < connections as u64 + 16) {
        tracing::warn!(
            server_pid = pid,
            server_open_file_limit = soft,
            connections,
            "the server may open fewer files than this run needs connections"
        );
    }
}
