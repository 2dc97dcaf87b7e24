//! `bench relay`: protocol v2 pairs relaying game input, both ways or one, at a steady
//! rate per pair and direction (open loop) or each message as soon as the last one of
//! its direction arrived (closed loop). Measures messages delivered per second, their
//! latency from send to the other side's read, and whether every one arrived, once and
//! in order ([`lane`](super::lane)).
//!
//! As in `bench pairs`, one task per pair owns both of its sockets and keeps its own
//! counts, merged once at the end; both ends of a message are in that task, so its
//! timestamp needs no clock shared between machines.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, MissedTickBehavior, sleep_until};

use super::connect::{Connector, Pair, ServerUrl, Ws, close, ensure_file_limit, open_pairs};
use super::lane::{self, Arrival, Lane, Stamper, Window};
use super::pairs::{TIMER_SLACK, WATCHDOG_PERIOD};
use super::relay_report::{Flow, RelayReport, ServerCpu};
use super::report::{Errors, Pacing};
use super::wire::{Incoming, excerpt};
use super::{procfs, progress};
use crate::protocol::{Role, Version};

/// Most messages one direction of a pair may have on their way in open loop. Beyond it
/// that direction waits (late messages still count from their scheduled time), so that
/// a stalled server shows as latency rather than as memory in the bench.
const MAX_IN_FLIGHT: u64 = 256;

/// Which sides of each pair send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Directions {
    /// Both sides send, each to the other.
    Both,
    /// The controller sends, the display reads: game input.
    ToDisplay,
    /// The display sends, the controller reads.
    ToController,
}

impl Directions {
    /// Whether `lane` sends ([`TO_DISPLAY`] or [`TO_CONTROLLER`]).
    fn sends(self, lane: usize) -> bool {
        match self {
            Directions::Both => true,
            Directions::ToDisplay => lane == TO_DISPLAY,
            Directions::ToController => lane == TO_CONTROLLER,
        }
    }
}

/// The lane the controller sends on.
const TO_DISPLAY: usize = 0;
/// The lane the display sends on.
const TO_CONTROLLER: usize = 1;

/// What `bench relay` does.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub url: ServerUrl,
    /// Where controllers connect, if not to `url`: another node of the same cluster.
    pub controller_url: Option<ServerUrl>,
    pub pairs: usize,
    /// The measured window, after the warm-up.
    pub duration: Duration,
    pub warmup: Duration,
    /// Messages per second each pair sends in each direction (open loop); `None`: closed loop.
    pub rate: Option<f64>,
    pub directions: Directions,
    /// The smallest size of each message's data, in bytes.
    pub payload_bytes: usize,
    /// Send the data as binary frames instead of text relay messages.
    pub binary: bool,
    /// A direction with messages on their way and none arriving for this long stops its
    /// pair; after the window, the longest wait for the last messages.
    pub timeout: Duration,
    /// Servers on this machine (nodes, Redis) whose CPU time in the window is reported.
    pub pids: Vec<u32>,
    pub connect_concurrency: usize,
    /// Draw progress bars on a terminal's stderr.
    pub progress: bool,
}

/// When a pair sends and what counts.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Where stamps count from.
    start: Instant,
    /// Open loop: the interval between one direction's messages, and its first send
    /// time per lane.
    schedule: Option<(Duration, [Instant; 2])>,
    directions: Directions,
    window: Window,
    /// Sending stops here; the pair then waits up to `timeout` for what is on its way.
    end: Instant,
    timeout: Duration,
}

impl Plan {
    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from((at - self.start).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What one pair's task measured.
struct Outcome {
    lanes: [Lane; 2],
    errors: Errors,
}

/// Opens the pairs, runs them, and reports. Fails only when no pair could be opened.
pub async fn run(config: &RelayConfig) -> anyhow::Result<RelayReport> {
    ensure_file_limit(config.pairs)?;
    // Read once up front, so that a wrong --pid fails before the run rather than after.
    procfs::all_cpu_time(&config.pids)?;
    let connector = Connector::resolve(&config.url, config.controller_url.as_ref())
        .await?
        .speaking(Version::V2);
    let (opened, mut errors) =
        open_pairs(&connector, config.pairs, config.connect_concurrency, config.progress).await?;
    let pairs_connected = opened.len();
    let controller_retries = opened.iter().map(|pair| u64::from(pair.controller_retries)).sum();

    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let window = Window {
        from: config.warmup.as_nanos() as u64,
        to: (config.warmup + config.duration).as_nanos() as u64,
    };
    let plan = |index: usize| Plan {
        start,
        schedule: config.rate.map(|rate| {
            let interval = Duration::from_secs_f64(1.0 / rate);
            // The pairs' first messages spread over one interval; the display's half an
            // interval after its controller's.
            let first = start + interval.mul_f64(index as f64 / pairs_connected as f64);
            (interval, [first, first + interval / 2])
        }),
        directions: config.directions,
        window,
        end,
        timeout: config.timeout,
    };
    let delivered = Arc::new(AtomicU64::new(0));
    let stamper = Stamper::new(config.payload_bytes, config.binary);
    let tasks: Vec<_> = opened
        .into_iter()
        .enumerate()
        .map(|(index, pair)| tokio::spawn(drive(pair, plan(index), stamper.clone(), delivered.clone())))
        .collect();

    let bar = progress::Window::start(config.progress, (start, measure_from, end), delivered, "messages");
    sleep_until(measure_from).await;
    let cpu_before = procfs::all_cpu_time(&config.pids)?;
    sleep_until(end).await;
    let cpu_after = procfs::all_cpu_time(&config.pids)?;
    bar.finish();

    let mut by_lane: [lane::Tally; 2] = Default::default();
    for task in tasks {
        match task.await {
            Ok(outcome) => {
                for (total, lane) in by_lane.iter_mut().zip(&outcome.lanes) {
                    total.merge(&lane.tally);
                }
                errors.merge(outcome.errors);
            }
            Err(err) => {
                errors.connection_failures += 1;
                errors.note(|| format!("a pair's task failed: {err}"));
            }
        }
    }
    let mut total = lane::Tally::default();
    by_lane.iter().for_each(|lane| total.merge(lane));
    let flow = |lane: usize| {
        config
            .directions
            .sends(lane)
            .then(|| Flow::new(&by_lane[lane], config.duration))
    };
    let servers: Vec<_> = config
        .pids
        .iter()
        .zip(cpu_before.iter().zip(&cpu_after))
        .map(|(&pid, (before, after))| ServerCpu {
            pid,
            cpu_s: after.saturating_sub(*before).as_secs_f64(),
        })
        .collect();
    let server_cpu_us_per_message = (!servers.is_empty() && total.delivered > 0).then(|| {
        let cpu_s: f64 = servers.iter().map(|server| server.cpu_s).sum();
        (cpu_s * 1e6 / total.delivered as f64 * 100.0).round() / 100.0
    });
    Ok(RelayReport {
        url: connector.url().to_string(),
        controller_url: connector.controller_url().map(ToString::to_string),
        pacing: match config.rate {
            Some(_) => Pacing::OpenLoop,
            None => Pacing::ClosedLoop,
        },
        pairs: config.pairs,
        pairs_connected,
        controller_retries,
        directions: config.directions,
        rate_per_pair: config.rate,
        payload_bytes: config.payload_bytes,
        binary: config.binary,
        warmup_s: config.warmup.as_secs_f64(),
        duration_s: config.duration.as_secs_f64(),
        total: Flow::new(&total, config.duration),
        to_display: flow(TO_DISPLAY),
        to_controller: flow(TO_CONTROLLER),
        servers,
        server_cpu_us_per_message,
        errors_total: errors.total(),
        errors,
    })
}

/// Runs one pair until the plan's end and its last messages, a connection failure or a
/// timeout.
async fn drive(mut pair: Pair, plan: Plan, stamper: Stamper, delivered: Arc<AtomicU64>) -> Outcome {
    let mut outcome = Outcome {
        lanes: Default::default(),
        errors: Errors::default(),
    };
    let mut due: [Option<Instant>; 2] = match plan.schedule {
        Some((_, first)) => [0, 1].map(|lane| plan.directions.sends(lane).then_some(first[lane])),
        None => [None, None],
    };
    // When each lane last made progress while it had messages on their way.
    let mut waiting_since: [Option<Instant>; 2] = [None, None];
    let mut draining = false;
    let deadline = sleep_until(plan.end);
    tokio::pin!(deadline);
    let next_send = sleep_until(plan.end);
    tokio::pin!(next_send);
    let mut watchdog = tokio::time::interval(WATCHDOG_PERIOD);
    watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);

    'run: loop {
        if draining && outcome.lanes.iter().all(|lane| lane.outstanding() == 0) {
            break;
        }
        if plan.schedule.is_none() && !draining {
            // Closed loop: a direction whose last message arrived sends the next.
            for lane in [TO_DISPLAY, TO_CONTROLLER] {
                if plan.directions.sends(lane) && outcome.lanes[lane].outstanding() == 0 {
                    let now = Instant::now();
                    let stamp = outcome.lanes[lane].stamp(plan.nanos(now), plan.window);
                    if let Err(err) = sender(&mut pair, lane).send(stamper.message(stamp)).await {
                        outcome.connection_lost(sending_role(lane), &err);
                        break 'run;
                    }
                    waiting_since[lane] = Some(now);
                }
            }
        }
        let wake = (0..2)
            .filter(|&lane| outcome.lanes[lane].outstanding() < MAX_IN_FLIGHT)
            .filter_map(|lane| due[lane])
            .min();
        if let Some(wake) = wake.filter(|&wake| wake != next_send.deadline()) {
            next_send.as_mut().reset(wake);
        }
        tokio::select! {
            biased;
            () = &mut deadline => {
                if draining {
                    break;
                }
                draining = true;
                due = [None, None];
                deadline.as_mut().reset(plan.end + plan.timeout);
            }
            frame = pair.display.next() => {
                match outcome.read(TO_DISPLAY, Incoming::from(frame), &plan, &delivered) {
                    Read::Ended => break,
                    Read::Relayed => waiting_since[TO_DISPLAY] = Some(Instant::now()),
                    Read::Other => {}
                }
            }
            frame = pair.controller.next() => {
                match outcome.read(TO_CONTROLLER, Incoming::from(frame), &plan, &delivered) {
                    Read::Ended => break,
                    Read::Relayed => waiting_since[TO_CONTROLLER] = Some(Instant::now()),
                    Read::Other => {}
                }
            }
            () = &mut next_send, if wake.is_some() => {
                let (interval, _) = plan.schedule.expect("only open loop has a due time");
                let now = Instant::now();
                for lane in [TO_DISPLAY, TO_CONTROLLER] {
                    // Send everything that is due; a lagging client catches up in one write.
                    let mut written = Ok(());
                    while let Some(intended) = due[lane].filter(|&t| t <= now && outcome.lanes[lane].outstanding() < MAX_IN_FLIGHT) {
                        let late = now > intended + TIMER_SLACK;
                        let origin = if late { intended + TIMER_SLACK } else { now };
                        let stamp = outcome.lanes[lane].stamp(plan.nanos(origin), plan.window);
                        if outcome.lanes[lane].outstanding() == 1 {
                            waiting_since[lane] = Some(now);
                        }
                        written = sender(&mut pair, lane).feed(stamper.message(stamp)).await;
                        if written.is_err() {
                            break;
                        }
                        if late && plan.window.from <= plan.nanos(intended) {
                            outcome.lanes[lane].tally.late_sends += 1;
                        }
                        due[lane] = Some(intended + interval).filter(|&next| next < plan.end);
                    }
                    if written.is_ok() {
                        written = sender(&mut pair, lane).flush().await;
                    }
                    if let Err(err) = written {
                        outcome.connection_lost(sending_role(lane), &err);
                        break 'run;
                    }
                }
            }
            _ = watchdog.tick() => {
                let now = Instant::now();
                for lane in [TO_DISPLAY, TO_CONTROLLER] {
                    let outstanding = outcome.lanes[lane].outstanding();
                    let stalled = waiting_since[lane].is_some_and(|since| since + plan.timeout <= now);
                    if outstanding > 0 && stalled {
                        outcome.errors.timeouts += outstanding;
                        outcome.errors.note(|| format!(
                            "{outstanding} messages to the {} and none arrived for {:?}",
                            receiving_role(lane),
                            plan.timeout
                        ));
                        break 'run;
                    }
                }
            }
        }
    }
    close(&mut pair.display).await;
    close(&mut pair.controller).await;
    outcome
}

/// The socket `lane` sends on.
fn sender(pair: &mut Pair, lane: usize) -> &mut Ws {
    match lane {
        TO_DISPLAY => &mut pair.controller,
        _ => &mut pair.display,
    }
}

fn sending_role(lane: usize) -> Role {
    match lane {
        TO_DISPLAY => Role::Controller,
        _ => Role::Display,
    }
}

fn receiving_role(lane: usize) -> Role {
    match lane {
        TO_DISPLAY => Role::Display,
        _ => Role::Controller,
    }
}

/// What a read on a pair's socket was.
enum Read {
    /// Relay data of this lane: progress.
    Relayed,
    /// A ping, an event, something malformed (counted as an error where it is one).
    Other,
    /// The connection is over.
    Ended,
}

impl Outcome {
    /// Counts what `lane`'s receiving end read.
    fn read(&mut self, lane: usize, incoming: Incoming, plan: &Plan, delivered: &AtomicU64) -> Read {
        let role = receiving_role(lane);
        let now = plan.nanos(Instant::now());
        let (stamp, bytes) = match incoming {
            Incoming::Text(text) => (lane::read_text(&text), text),
            Incoming::Binary(bytes) => (lane::read_binary(&bytes), bytes),
            Incoming::Control => return Read::Other,
            Incoming::Ended(why) => {
                self.connection_lost(role, &why);
                return Read::Ended;
            }
        };
        let Some(stamp) = stamp else {
            self.unexpected(role, &bytes);
            return Read::Other;
        };
        match self.lanes[lane].arrived(stamp, now, plan.window) {
            Arrival::Delivered(true) => {
                delivered.fetch_add(1, Ordering::Relaxed);
            }
            Arrival::Delivered(false) => {}
            Arrival::Unsolicited => {
                self.errors.unsolicited_messages += 1;
                self.errors
                    .note(|| format!("the {role} received a message never sent: {}", excerpt(&bytes)));
                return Read::Other;
            }
        }
        Read::Relayed
    }

    /// Anything but relay data of the bench's shape: an error event (counted by code),
    /// a change of peer, or something malformed.
    fn unexpected(&mut self, role: Role, bytes: &[u8]) {
        #[derive(Deserialize)]
        struct Event {
            #[serde(rename = "type")]
            kind: String,
            code: Option<String>,
        }
        self.errors.note(|| format!("the {role} received {}", excerpt(bytes)));
        match serde_json::from_slice::<Event>(bytes) {
            Ok(Event { kind, code }) if kind == "error" => {
                let code = code.unwrap_or_else(|| "unknown".to_owned());
                *self.errors.error_replies.entry(code).or_default() += 1;
            }
            Ok(Event { kind, .. }) if kind == "peer" => self.errors.unsolicited_messages += 1,
            _ if role == Role::Display => self.errors.malformed_display_messages += 1,
            _ => self.errors.malformed_replies += 1,
        }
    }

    fn connection_lost(&mut self, role: Role, why: &dyn std::fmt::Display) {
        self.errors.connection_failures += 1;
        self.errors.note(|| format!("the {role}'s connection ended: {why}"));
    }
}
