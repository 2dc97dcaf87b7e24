//! `bench pairs`: pairs exchanging difficulties as fast as they can (closed loop) or on
//! a fixed schedule (open loop), measuring round trips per second and their latency.
//!
//! One task per pair owns both of its sockets, so matching a draw to its request needs
//! no channel and no lock; each task keeps its own histogram and error counts, merged
//! once at the end. The only shared state is a relaxed counter for the progress bar.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior, sleep_until};
use tokio_tungstenite::tungstenite::Message;

use super::connect::{Connector, Pair, ServerUrl, close, ensure_file_limit, open_pairs};
use super::inflight::{InFlight, Matched, RoundTrip};
use super::progress;
use super::report::{self, Errors, Latencies, LatencySummary, Pacing, PairsReport, latencies};
use super::wire::{self, Incoming, Reply};

/// Most requests one pair may have unanswered in open loop. Beyond it the pair waits
/// (late requests still count from their scheduled time), so that the client never
/// blocks on a full socket while the server blocks writing replies to it.
const MAX_IN_FLIGHT: usize = 256;
/// How late tokio's timer may fire a scheduled send: it rounds deadlines up to whole
/// milliseconds and then waits in whole milliseconds, so up to about 2 ms (measured:
/// median 1 ms, p99 2 ms on an idle machine). That much lateness is the client's clock,
/// not the server, and is not counted as latency; beyond it (a pair at its in-flight
/// cap, a client out of CPU) latency counts from the schedule.
pub(super) const TIMER_SLACK: Duration = Duration::from_millis(2);
/// How often each pair looks for requests older than the timeout.
pub(super) const WATCHDOG_PERIOD: Duration = Duration::from_millis(250);

/// What `bench pairs` does.
#[derive(Debug, Clone)]
pub struct PairsConfig {
    pub url: ServerUrl,
    /// Where controllers connect, if not to `url`: another node of the same cluster.
    pub controller_url: Option<ServerUrl>,
    pub pairs: usize,
    /// The measured window, after the warm-up.
    pub duration: Duration,
    /// Run this long before measuring (connections and caches settle).
    pub warmup: Duration,
    pub difficulty: i64,
    /// Round trips per second over all pairs (open loop); `None`: closed loop.
    pub rate: Option<f64>,
    /// A request unanswered this long is an error and stops its pair.
    pub timeout: Duration,
    /// WebSocket handshakes in progress at once while opening the pairs.
    pub connect_concurrency: usize,
    /// Draw progress bars on a terminal's stderr.
    pub progress: bool,
}

/// When a pair sends and what counts.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Open loop: the interval between one pair's requests and its first send time.
    schedule: Option<(Duration, Instant)>,
    measure_from: Instant,
    end: Instant,
    timeout: Duration,
}

/// What one pair's task measured.
struct Outcome {
    latencies: Latencies,
    requests: u64,
    /// Open loop: requests sent more than [`TIMER_SLACK`] after their scheduled time.
    late_requests: u64,
    round_trips: u64,
    errors: Errors,
}

/// Opens the pairs, runs them, and reports. Fails only when no pair could be opened.
pub async fn run(config: &PairsConfig) -> anyhow::Result<PairsReport> {
    ensure_file_limit(config.pairs)?;
    let connector = Connector::resolve(&config.url, config.controller_url.as_ref()).await?;
    let (opened, mut errors) =
        open_pairs(&connector, config.pairs, config.connect_concurrency, config.progress).await?;
    let pairs_connected = opened.len();
    let controller_retries = opened.iter().map(|pair| u64::from(pair.controller_retries)).sum();
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let plan = |index: usize| Plan {
        schedule: config.rate.map(|rate| {
            let interval = Duration::from_secs_f64(pairs_connected as f64 / rate);
            // Spread the pairs' first requests over one interval.
            (
                interval,
                start + interval.mul_f64(index as f64 / pairs_connected as f64),
            )
        }),
        measure_from,
        end,
        timeout: config.timeout,
    };
    let completed = Arc::new(AtomicU64::new(0));
    let request = Message::text(format!(r#"{{"difficulty":{}}}"#, config.difficulty));
    let tasks: Vec<_> = opened
        .into_iter()
        .enumerate()
        .map(|(index, pair)| tokio::spawn(drive(pair, plan(index), request.clone(), completed.clone())))
        .collect();

    let bar = progress::Window::start(config.progress, (start, measure_from, end), completed, "round trips");
    let mut total = latencies();
    let (mut requests, mut late_requests, mut round_trips) = (0, 0, 0);
    for task in tasks {
        match task.await {
            Ok(outcome) => {
                total
                    .add(&outcome.latencies)
                    .expect("auto-resizing histograms take any value");
                requests += outcome.requests;
                late_requests += outcome.late_requests;
                round_trips += outcome.round_trips;
                errors.merge(outcome.errors);
            }
            Err(err) => {
                errors.connection_failures += 1;
                errors.note(|| format!("a pair's task failed: {err}"));
            }
        }
    }
    bar.finish();

    let seconds = config.duration.as_secs_f64();
    Ok(PairsReport {
        url: connector.url().to_string(),
        controller_url: connector.controller_url().map(ToString::to_string),
        pacing: match config.rate {
            Some(_) => Pacing::OpenLoop,
            None => Pacing::ClosedLoop,
        },
        pairs: config.pairs,
        pairs_connected,
        controller_retries,
        difficulty: config.difficulty,
        target_rate: config.rate,
        warmup_s: config.warmup.as_secs_f64(),
        duration_s: seconds,
        requests,
        late_requests,
        round_trips,
        round_trips_per_s: if seconds > 0.0 {
            round_trips as f64 / seconds
        } else {
            0.0
        },
        latency_us: LatencySummary::from(&total),
        errors_total: errors.total(),
        errors,
    })
}

/// Runs one pair until the plan's end, a connection failure or a timeout.
async fn drive(mut pair: Pair, plan: Plan, request: Message, completed: Arc<AtomicU64>) -> Outcome {
    let mut outcome = Outcome {
        latencies: latencies(),
        requests: 0,
        late_requests: 0,
        round_trips: 0,
        errors: Errors::default(),
    };
    let mut flight = InFlight::default();
    let end = sleep_until(plan.end);
    tokio::pin!(end);
    let mut watchdog = tokio::time::interval(WATCHDOG_PERIOD);
    watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Open loop: when the next request is due; `None` once the schedule reaches the end.
    let mut due = plan.schedule.map(|(_, first)| first);
    let next_send = sleep_until(due.unwrap_or(plan.end));
    tokio::pin!(next_send);

    loop {
        if plan.schedule.is_none() && flight.is_empty() {
            let now = Instant::now();
            if now >= plan.end {
                break;
            }
            if let Err(err) = pair.controller.send(request.clone()).await {
                outcome.connection_lost("controller", &err);
                break;
            }
            flight.sent(now);
            outcome.count_request(now, &plan);
        }
        tokio::select! {
            biased;
            () = &mut end => break,
            frame = pair.display.next() => {
                let bytes = match Incoming::from(frame) {
                    // Binary frames are read as JSON too, as the seed's clients did.
                    Incoming::Text(bytes) | Incoming::Binary(bytes) => bytes,
                    Incoming::Control => continue,
                    Incoming::Ended(why) => {
                        outcome.connection_lost("display", &why);
                        break;
                    }
                };
                let at = Instant::now();
                let checked = wire::check_draw(&bytes);
                if let Err(problem) = &checked {
                    outcome.errors.malformed_display_messages += 1;
                    outcome.errors.note(|| problem.clone());
                }
                let matched = flight.drawn(at, checked.is_ok());
                outcome.settle(matched, at, &plan, &completed, "a draw came with no request waiting for it");
            }
            frame = pair.controller.next() => {
                let bytes = match Incoming::from(frame) {
                    Incoming::Text(bytes) | Incoming::Binary(bytes) => bytes,
                    Incoming::Control => continue,
                    Incoming::Ended(why) => {
                        outcome.connection_lost("controller", &why);
                        break;
                    }
                };
                let at = Instant::now();
                let matched = match wire::read_reply(&bytes) {
                    Reply::Received => flight.received(at),
                    Reply::Error(code) => {
                        outcome.errors.note(|| format!("error reply: {}", String::from_utf8_lossy(&bytes).trim_end()));
                        *outcome.errors.error_replies.entry(code).or_default() += 1;
                        flight.refused()
                    }
                    Reply::Malformed(problem) => {
                        outcome.errors.malformed_replies += 1;
                        outcome.errors.note(|| problem);
                        flight.refused()
                    }
                };
                outcome.settle(matched, at, &plan, &completed, "an answer came with no request waiting for it");
            }
            () = &mut next_send, if due.is_some() && flight.len() < MAX_IN_FLIGHT => {
                let (interval, _) = plan.schedule.expect("only open loop has a due time");
                let now = Instant::now();
                // Send everything that is due; a lagging client catches up in one write.
                let mut written = Ok(());
                while let Some(intended) = due.filter(|&t| t <= now && flight.len() < MAX_IN_FLIGHT) {
                    written = pair.controller.feed(request.clone()).await;
                    if written.is_err() {
                        break;
                    }
                    let late = now > intended + TIMER_SLACK;
                    flight.sent(if late { intended + TIMER_SLACK } else { now });
                    outcome.count_request(intended, &plan);
                    if late && intended >= plan.measure_from {
                        outcome.late_requests += 1;
                    }
                    due = Some(intended + interval).filter(|&next| next < plan.end);
                }
                if written.is_ok() {
                    written = pair.controller.flush().await;
                }
                if let Err(err) = written {
                    outcome.connection_lost("controller", &err);
                    break;
                }
                if let Some(next) = due {
                    next_send.as_mut().reset(next);
                }
            }
            _ = watchdog.tick() => {
                if let Some(oldest) = flight.oldest().filter(|&t| t + plan.timeout <= Instant::now()) {
                    outcome.errors.timeouts += flight.len() as u64;
                    outcome.errors.note(|| format!(
                        "no complete answer {:?} after sending a request",
                        Instant::now() - oldest
                    ));
                    break;
                }
            }
        }
    }
    close(&mut pair.display).await;
    close(&mut pair.controller).await;
    outcome
}

impl Outcome {
    fn count_request(&mut self, intended: Instant, plan: &Plan) {
        if intended >= plan.measure_from && intended < plan.end {
            self.requests += 1;
        }
    }

    /// Records what matching a reply produced.
    fn settle(&mut self, matched: Matched, at: Instant, plan: &Plan, completed: &AtomicU64, unsolicited: &str) {
        match matched {
            Matched::Done(RoundTrip {
                latency,
                well_formed: true,
            }) if at >= plan.measure_from => {
                report::record(&mut self.latencies, latency);
                self.round_trips += 1;
                completed.fetch_add(1, Ordering::Relaxed);
            }
            Matched::Done(_) | Matched::Waiting => {}
            Matched::Unsolicited => {
                self.errors.unsolicited_messages += 1;
                self.errors.note(|| unsolicited.to_owned());
            }
        }
    }

    fn connection_lost(&mut self, role: &str, why: &dyn std::fmt::Display) {
        self.errors.connection_failures += 1;
        self.errors.note(|| format!("the {role}'s connection ended: {why}"));
    }
}
