//! `bench room`: many members in one room, some of them sending at a steady total rate;
//! measures fan-out: how many deliveries per second every member gets, how long a
//! message takes from its sender to each member, and whether any member saw a gap.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::connect::{ServerUrl, ensure_file_limit};
use super::report::{Latencies, LatencySummary, latencies, record};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What `bench room` does.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    pub url: ServerUrl,
    pub room: String,
    pub members: usize,
    /// How many of the members send.
    pub senders: usize,
    /// Messages per second over all senders.
    pub rate: f64,
    pub duration: Duration,
    pub connect_concurrency: usize,
}

/// The figures of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RoomReport {
    pub members: usize,
    pub senders: usize,
    pub duration_s: f64,
    pub messages_sent: u64,
    /// Messages received by members, summed over members.
    pub deliveries: u64,
    pub deliveries_per_second: f64,
    /// Deliveries missing at the end: `messages_sent × members − deliveries`.
    pub missing: u64,
    /// Members that saw a `seq` jump or repeat.
    pub members_with_gaps: u64,
    /// Members whose connection ended during the run (e.g. closed with 1013 because they
    /// did not keep up).
    pub members_lost: u64,
    /// From the sender's send to each member's receipt, in microseconds.
    pub latency_us: LatencySummary,
}

impl std::fmt::Display for RoomReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = &self.latency_us;
        writeln!(
            f,
            "room: {} members, {} sending, {:.1} s",
            self.members, self.senders, self.duration_s
        )?;
        writeln!(
            f,
            "messages sent: {}   deliveries: {} ({:.0}/s)   missing: {}   members with gaps: {}   members lost: {}",
            self.messages_sent,
            self.deliveries,
            self.deliveries_per_second,
            self.missing,
            self.members_with_gaps,
            self.members_lost
        )?;
        write!(
            f,
            "sender → member latency (µs): p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            l.p50, l.p90, l.p99, l.p99_9, l.max
        )
    }
}

/// Joins the members, runs the senders for the duration, waits for stragglers, reports.
pub async fn run(config: &RoomConfig) -> anyhow::Result<RoomReport> {
    ensure_file_limit(config.members.div_ceil(2))?;
    let url = format!("{}/ws/rooms/{}", config.url, config.room);
    let mut members = Vec::with_capacity(config.members);
    let indices: Vec<usize> = (0..config.members).collect();
    for chunk in indices.chunks(config.connect_concurrency.max(1)) {
        let joins = chunk.iter().map(|_| tokio_tungstenite::connect_async(url.as_str()));
        for joined in futures_util::future::join_all(joins).await {
            let (mut ws, _) = joined.map_err(|err| anyhow::anyhow!("a member could not join {url}: {err}"))?;
            // The welcome; join notices of later members are skipped by the readers.
            let _ = ws.next().await;
            members.push(ws);
        }
    }
    let stop_sending = CancellationToken::new();
    let all_sent = CancellationToken::new();
    let stop_reading = CancellationToken::new();
    let sent = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::with_capacity(config.members);
    let mut writers = Vec::new();
    let per_sender = config.rate / config.senders.max(1) as f64;
    // Members are told of every later join: let those notices drain before measuring.
    // Timestamps count from `epoch`; sending starts at `start`.
    let epoch = Instant::now();
    let start = epoch + SETTLE;
    for (i, ws) in members.into_iter().enumerate() {
        let (sink, stream) = ws.split();
        let done = Done {
            sending_stopped: all_sent.clone(),
            sent: sent.clone(),
            give_up: stop_reading.clone(),
        };
        readers.push(tokio::spawn(read(stream, epoch, done)));
        let rate = (i < config.senders).then_some(per_sender);
        let clock = Clock { epoch, start };
        writers.push(tokio::spawn(send(
            sink,
            i,
            rate,
            clock,
            stop_sending.clone(),
            sent.clone(),
        )));
    }
    tokio::time::sleep_until(start + config.duration).await;
    stop_sending.cancel();
    let duration = start.elapsed();
    let mut sinks = Vec::new();
    for writer in writers {
        sinks.push(writer.await?);
    }
    // Only now is the count of messages sent final.
    all_sent.cancel();
    // Stragglers: each member has a little while to receive the rest.
    let give_up = stop_reading.clone();
    tokio::spawn(async move {
        tokio::time::sleep(STRAGGLERS).await;
        give_up.cancel();
    });
    let mut all = latencies();
    let (mut deliveries, mut members_with_gaps, mut members_lost) = (0, 0, 0);
    for reader in readers {
        let seen = reader.await?;
        deliveries += seen.received;
        members_with_gaps += u64::from(seen.gap);
        members_lost += u64::from(seen.lost);
        all.add(&seen.latencies).expect("histograms of one precision add up");
    }
    for mut sink in sinks {
        let _ = sink.close().await;
    }
    let messages_sent = sent.load(Ordering::Relaxed);
    Ok(RoomReport {
        members: config.members,
        senders: config.senders,
        duration_s: (duration.as_secs_f64() * 10.0).round() / 10.0,
        messages_sent,
        deliveries,
        deliveries_per_second: (deliveries as f64 / duration.as_secs_f64()).round(),
        missing: (messages_sent * config.members as u64).saturating_sub(deliveries),
        members_with_gaps,
        members_lost,
        latency_us: LatencySummary::from(&all),
    })
}

/// How long after the last join sending starts.
const SETTLE: Duration = Duration::from_secs(1);

/// How long members may take to receive the last messages after sending stops.
const STRAGGLERS: Duration = Duration::from_secs(2);

/// When a reader is done: every sender has finished and it has everything sent, or time
/// is up.
struct Done {
    sending_stopped: CancellationToken,
    sent: Arc<AtomicU64>,
    give_up: CancellationToken,
}

/// When timestamps count from, and when sending starts.
#[derive(Clone, Copy)]
struct Clock {
    epoch: Instant,
    start: Instant,
}

/// Sends `{"t":µs since the epoch,"s":sender}` at `rate` per second until stopped; a
/// member that does not send just keeps its sink until then.
async fn send(
    mut sink: SplitSink<Ws, Message>,
    sender: usize,
    rate: Option<f64>,
    clock: Clock,
    stop: CancellationToken,
    sent: Arc<AtomicU64>,
) -> SplitSink<Ws, Message> {
    let Some(rate) = rate.filter(|rate| *rate > 0.0) else {
        stop.cancelled().await;
        return sink;
    };
    tokio::time::sleep_until(clock.start).await;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            () = stop.cancelled() => return sink,
            _ = ticker.tick() => {
                let t = clock.epoch.elapsed().as_micros();
                let text = format!(r#"{{"t":{t},"s":{sender}}}"#);
                if sink.send(Message::text(text)).await.is_err() {
                    return sink;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// What one member saw.
struct Seen {
    received: u64,
    /// The last `seq`, to tell a gap or a repeat.
    last_seq: Option<u64>,
    gap: bool,
    /// The connection ended before the run did.
    lost: bool,
    latencies: Latencies,
}

/// Reads a member's messages as they arrive, until [`Done`].
async fn read(mut stream: SplitStream<Ws>, epoch: Instant, done: Done) -> Seen {
    let mut seen = Seen {
        received: 0,
        last_seq: None,
        gap: false,
        lost: false,
        latencies: latencies(),
    };
    loop {
        if done.sending_stopped.is_cancelled() && seen.received >= done.sent.load(Ordering::Relaxed) {
            return seen;
        }
        tokio::select! {
            () = done.give_up.cancelled() => return seen,
            // Woken when sending stops, to check whether everything is in.
            () = done.sending_stopped.cancelled(), if !done.sending_stopped.is_cancelled() => {}
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => note(&mut seen, text.as_str(), epoch),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    seen.lost = true;
                    return seen;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Records one room event: its latency, and whether its `seq` follows the last one.
fn note(seen: &mut Seen, text: &str, epoch: Instant) {
    let Ok(event) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    if event["type"] != "message" {
        return;
    }
    let (Some(t), Some(seq)) = (event["data"]["t"].as_u64(), event["seq"].as_u64()) else {
        return;
    };
    seen.received += 1;
    if seen.last_seq.is_some_and(|last| seq != last + 1) {
        seen.gap = true;
    }
    seen.last_seq = Some(seq);
    let now = u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
    record(&mut seen.latencies, Duration::from_micros(now.saturating_sub(t)));
}
