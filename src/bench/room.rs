//! `bench room`: many members in one room, some of them sending at a steady total rate;
//! measures how long the room takes to fill, then fan-out: how many deliveries per
//! second every member gets, how long a message takes from its sender to each member,
//! whether any member saw a gap or was closed for not keeping up (1013), and the
//! servers' CPU time per delivery. Members may be spread over several nodes of a
//! cluster, round robin.

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
use super::procfs;
use super::relay_report::ServerCpu;
use super::report::{Latencies, LatencySummary, latencies, record};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What `bench room` does.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// The nodes members join, round robin (one for a server alone).
    pub urls: Vec<ServerUrl>,
    pub room: String,
    pub members: usize,
    /// How many of the members send.
    pub senders: usize,
    /// Messages per second over all senders.
    pub rate: f64,
    pub duration: Duration,
    pub connect_concurrency: usize,
    /// Whether members ask to hear joins and leaves (`false`: they join with
    /// `?notices=false`).
    pub notices: bool,
    /// Server processes (nodes, Redis) whose CPU time is reported.
    pub pids: Vec<u32>,
}

/// The figures of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RoomReport {
    pub members: usize,
    pub nodes: usize,
    pub senders: usize,
    /// From the first join to the last member's welcome.
    pub fill_s: f64,
    pub joins_per_second: f64,
    /// Join and leave notices received, summed over members, over the whole run.
    pub notices: u64,
    /// Members whose welcome said they would hear joins and leaves.
    pub members_with_notices: u64,
    pub duration_s: f64,
    pub messages_sent: u64,
    /// Messages received by members, summed over members.
    pub deliveries: u64,
    pub deliveries_per_second: f64,
    /// Deliveries missing at the end: `messages_sent × members − deliveries`.
    pub missing: u64,
    /// Members that saw a `seq` jump or repeat.
    pub members_with_gaps: u64,
    /// Members whose connection ended during the run (filling or sending), those that
    /// were cut off before their welcome included.
    pub members_lost: u64,
    /// Of those, the ones closed with 1013 because they did not keep up.
    pub members_closed_1013: u64,
    /// Members whose join was refused (e.g. 503 when Redis was too slow to answer),
    /// and why the first one was.
    pub members_refused: u64,
    pub first_refusal: Option<String>,
    /// From the sender's send to each member's receipt, in microseconds.
    pub latency_us: LatencySummary,
    /// The servers' CPU time while the room filled.
    pub fill_cpu: Vec<ServerCpu>,
    /// The servers' CPU time while the members sent, and per delivery.
    pub send_cpu: Vec<ServerCpu>,
    pub server_cpu_us_per_delivery: Option<f64>,
}

impl std::fmt::Display for RoomReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = &self.latency_us;
        writeln!(
            f,
            "room: {} members on {} node(s), {} sending, {:.1} s",
            self.members, self.nodes, self.senders, self.duration_s
        )?;
        writeln!(
            f,
            "fill: {:.1} s ({:.0} joins/s)   notices received: {}   members with notices: {}",
            self.fill_s, self.joins_per_second, self.notices, self.members_with_notices
        )?;
        writeln!(
            f,
            "messages sent: {}   deliveries: {} ({:.0}/s)   missing: {}   members with gaps: {}   members lost: {} ({} with 1013)",
            self.messages_sent,
            self.deliveries,
            self.deliveries_per_second,
            self.missing,
            self.members_with_gaps,
            self.members_lost,
            self.members_closed_1013
        )?;
        if let Some(refusal) = &self.first_refusal {
            writeln!(f, "members refused: {} (the first: {refusal})", self.members_refused)?;
        }
        for (fill, send) in self.fill_cpu.iter().zip(&self.send_cpu) {
            writeln!(
                f,
                "server CPU pid {}: {:.2} s filling, {:.2} s sending",
                fill.pid, fill.cpu_s, send.cpu_s
            )?;
        }
        if let Some(per_delivery) = self.server_cpu_us_per_delivery {
            writeln!(f, "server CPU per delivery: {per_delivery} µs")?;
        }
        write!(
            f,
            "sender → member latency (µs): p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            l.p50, l.p90, l.p99, l.p99_9, l.max
        )
    }
}

fn cpu_between(pids: &[u32], before: &[Duration], after: &[Duration]) -> Vec<ServerCpu> {
    pids.iter()
        .zip(before.iter().zip(after))
        .map(|(&pid, (before, after))| ServerCpu {
            pid,
            cpu_s: (after.saturating_sub(*before).as_secs_f64() * 100.0).round() / 100.0,
        })
        .collect()
}

/// Joins the members, reading each from its welcome on, runs the senders for the
/// duration, waits for stragglers, reports.
pub async fn run(config: &RoomConfig) -> anyhow::Result<RoomReport> {
    anyhow::ensure!(!config.urls.is_empty(), "a room bench needs a server URL");
    ensure_file_limit(config.members.div_ceil(2))?;
    let query = if config.notices { "" } else { "?notices=false" };
    let urls: Vec<String> = config
        .urls
        .iter()
        .map(|url| format!("{url}/ws/rooms/{}{query}", config.room))
        .collect();
    let stop_sending = CancellationToken::new();
    let all_sent = CancellationToken::new();
    let stop_reading = CancellationToken::new();
    let sent = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::with_capacity(config.members);
    let mut sinks = Vec::with_capacity(config.members);
    let mut members_with_notices = 0;
    let mut not_welcomed = 0;
    let (mut refused, mut first_refusal) = (0_u64, None);
    let epoch = Instant::now();
    let cpu_start = procfs::all_cpu_time(&config.pids)?;
    let indices: Vec<usize> = (0..config.members).collect();
    for chunk in indices.chunks(config.connect_concurrency.max(1)) {
        let joins = chunk.iter().map(|&i| {
            let url = &urls[i % urls.len()];
            async move {
                let (mut ws, _) = match tokio_tungstenite::connect_async(url.as_str()).await {
                    Ok(joined) => joined,
                    Err(err) => return Err(format!("a member could not join {url}: {err}")),
                };
                let welcome = ws.next().await;
                let notices = match welcome {
                    Some(Ok(Message::Text(text))) => text.as_str().contains(r#""notices":true"#),
                    // Closed (1013) or cut off before its welcome was read.
                    _ => return Ok(None),
                };
                Ok(Some((ws, notices)))
            }
        });
        for joined in futures_util::future::join_all(joins).await {
            let (ws, notices) = match joined {
                Ok(Some(joined)) => joined,
                Ok(None) => {
                    not_welcomed += 1;
                    continue;
                }
                Err(refusal) => {
                    refused += 1;
                    first_refusal.get_or_insert(refusal);
                    continue;
                }
            };
            members_with_notices += u64::from(notices);
            // Read from the welcome on: notices of later joins must not pile up.
            let (sink, stream) = ws.split();
            let done = Done {
                sending_stopped: all_sent.clone(),
                sent: sent.clone(),
                give_up: stop_reading.clone(),
            };
            readers.push(tokio::spawn(read(stream, epoch, done)));
            sinks.push(sink);
        }
    }
    let fill = epoch.elapsed();
    if refused == config.members as u64 {
        anyhow::bail!("no member could join: {}", first_refusal.unwrap_or_default());
    }
    let cpu_filled = procfs::all_cpu_time(&config.pids)?;
    let mut writers = Vec::new();
    let per_sender = config.rate / config.senders.max(1) as f64;
    // Timestamps count from `epoch`; sending starts at `start`, once the last notices
    // have drained.
    let start = Instant::now() + SETTLE;
    for (i, sink) in sinks.into_iter().enumerate() {
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
    tokio::time::sleep_until(start).await;
    let cpu_sending = procfs::all_cpu_time(&config.pids)?;
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
    let (mut deliveries, mut members_with_gaps, mut members_lost, mut slow, mut notices) = (0, 0, 0, 0, 0);
    for reader in readers {
        let seen = reader.await?;
        deliveries += seen.received;
        notices += seen.notices;
        members_with_gaps += u64::from(seen.gap);
        members_lost += u64::from(seen.lost);
        slow += u64::from(seen.closed_1013);
        all.add(&seen.latencies).expect("histograms of one precision add up");
    }
    let cpu_end = procfs::all_cpu_time(&config.pids)?;
    for mut sink in sinks {
        let _ = sink.close().await;
    }
    let messages_sent = sent.load(Ordering::Relaxed);
    let send_cpu = cpu_between(&config.pids, &cpu_sending, &cpu_end);
    let server_cpu_us_per_delivery = (!send_cpu.is_empty() && deliveries > 0).then(|| {
        let cpu_s: f64 = send_cpu.iter().map(|server| server.cpu_s).sum();
        (cpu_s * 1e6 / deliveries as f64 * 1000.0).round() / 1000.0
    });
    Ok(RoomReport {
        members: config.members,
        nodes: config.urls.len(),
        senders: config.senders,
        fill_s: (fill.as_secs_f64() * 100.0).round() / 100.0,
        joins_per_second: (config.members as f64 / fill.as_secs_f64()).round(),
        notices,
        members_with_notices,
        duration_s: (duration.as_secs_f64() * 10.0).round() / 10.0,
        messages_sent,
        deliveries,
        deliveries_per_second: (deliveries as f64 / duration.as_secs_f64()).round(),
        missing: (messages_sent * config.members as u64).saturating_sub(deliveries),
        members_with_gaps,
        members_lost: members_lost + not_welcomed,
        members_closed_1013: slow,
        members_refused: refused,
        first_refusal,
        latency_us: LatencySummary::from(&all),
        fill_cpu: cpu_between(&config.pids, &cpu_start, &cpu_filled),
        send_cpu,
        server_cpu_us_per_delivery,
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
    /// Join and leave notices.
    notices: u64,
    /// The last `seq`, to tell a gap or a repeat.
    last_seq: Option<u64>,
    gap: bool,
    /// The connection ended before the run did.
    lost: bool,
    /// It ended with 1013: the member did not keep up.
    closed_1013: bool,
    latencies: Latencies,
}

/// Reads a member's messages as they arrive, until [`Done`].
async fn read(mut stream: SplitStream<Ws>, epoch: Instant, done: Done) -> Seen {
    let mut seen = Seen {
        received: 0,
        notices: 0,
        last_seq: None,
        gap: false,
        lost: false,
        closed_1013: false,
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
                Some(Ok(Message::Close(frame))) => {
                    seen.lost = true;
                    seen.closed_1013 = frame.is_some_and(|frame| u16::from(frame.code) == 1013);
                    return seen;
                }
                Some(Err(_)) | None => {
                    seen.lost = true;
                    return seen;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// The parts of a room message the bench reads; `data` is what a sender stamped.
#[derive(serde::Deserialize)]
struct Delivery<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    seq: u64,
    data: Stamp,
}

#[derive(serde::Deserialize)]
struct Stamp {
    t: u64,
}

/// Records one room event: its latency, and whether its `seq` follows the last one.
fn note(seen: &mut Seen, text: &str, epoch: Instant) {
    // Notices can be millions in a big room: counted without parsing.
    if text.starts_with(r#"{"type":"join""#) || text.starts_with(r#"{"type":"leave""#) {
        seen.notices += 1;
        return;
    }
    let Ok(Delivery {
        kind: "message",
        seq,
        data: Stamp { t },
    }) = serde_json::from_str::<Delivery>(text)
    else {
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
