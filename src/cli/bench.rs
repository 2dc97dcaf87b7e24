//! The flags of `pairlink bench`.

use std::time::Duration;

use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;

use super::positive_duration;
use crate::bench::connect::ServerUrl;
use crate::bench::idle::IdleConfig;
use crate::bench::pairs::PairsConfig;
use crate::bench::relay::{Directions, RelayConfig};
use crate::bench::room::RoomConfig;
use crate::protocol::RoomName;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Pairs exchanging difficulties: round trips per second and their latency.
    Pairs(BenchPairsArgs),
    /// Pairs that connect and wait: how many the server takes, how fast, at what memory cost.
    Idle(BenchIdleArgs),
    /// Members of one room, some sending: fan-out deliveries per second and latency.
    Room(BenchRoomArgs),
    /// v2 pairs relaying game input: messages per second, their latency, losses, reordering.
    Relay(BenchRelayArgs),
}

#[derive(Debug, Args)]
pub struct BenchRoomArgs {
    #[command(flatten)]
    pub target: BenchTargetArgs,

    /// The room to use (every member joins it).
    #[arg(long, default_value = "bench")]
    pub room: RoomName,

    /// Members in the room.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub members: u32,

    /// How many of the members send.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub senders: u32,

    /// Messages per second over all senders; each is delivered to every member.
    #[arg(long, default_value = "100", value_parser = positive_rate)]
    pub rate: f64,

    /// How long to send.
    #[arg(long, default_value = "10s", value_parser = positive_duration)]
    pub duration: Duration,

    /// Another node of the same cluster (repeatable): members join --url and these in
    /// turn, round robin.
    #[arg(long = "node-url")]
    pub node_urls: Vec<ServerUrl>,

    /// Members join with ?notices=false: they ask not to hear of joins and leaves.
    #[arg(long)]
    pub no_notices: bool,

    /// The server's process id, if it runs on this machine: reports the CPU time it used
    /// filling the room and sending, and per delivery. Several, comma-separated (both
    /// nodes, and Redis, for a cluster).
    #[arg(long = "pid", env = "PAIRLINK_BENCH_PID", value_delimiter = ',')]
    pub pids: Vec<u32>,
}

impl From<BenchRoomArgs> for RoomConfig {
    fn from(args: BenchRoomArgs) -> Self {
        let mut urls = vec![args.target.url];
        urls.extend(args.node_urls);
        Self {
            urls,
            room: args.room.to_string(),
            members: args.members as usize,
            senders: args.senders.min(args.members) as usize,
            rate: args.rate,
            duration: args.duration,
            connect_concurrency: args.target.connect_concurrency as usize,
            notices: !args.no_notices,
            pids: args.pids,
        }
    }
}

/// What every bench shares: where the server is and how to report.
#[derive(Debug, Args)]
pub struct BenchTargetArgs {
    /// The server's base URL (ws:// only); the pairing endpoints are appended to it.
    #[arg(long, env = "PAIRLINK_BENCH_URL", default_value = "ws://127.0.0.1:8080")]
    pub url: ServerUrl,

    /// Connect the controllers here instead of to --url: another node of the same
    /// cluster, so that every message of a pair crosses between the two nodes.
    #[arg(long, env = "PAIRLINK_BENCH_CONTROLLER_URL")]
    pub controller_url: Option<ServerUrl>,

    /// Print one JSON object with every figure instead of the summary.
    #[arg(long, env = "PAIRLINK_BENCH_JSON")]
    pub json: bool,

    /// WebSocket handshakes in progress at once while the pairs are opened.
    #[arg(long, env = "PAIRLINK_BENCH_CONNECT_CONCURRENCY", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connect_concurrency: u32,
}

/// What the benches that load pairs share: how many, for how long, and when a pair
/// counts as stuck.
#[derive(Debug, Args)]
pub struct BenchLoadArgs {
    /// Display/controller pairs (two connections each).
    #[arg(long, env = "PAIRLINK_BENCH_PAIRS", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub pairs: u32,

    /// How long to measure, after the warm-up (e.g. 10s, 1m).
    #[arg(long, env = "PAIRLINK_BENCH_DURATION", default_value = "10s", value_parser = positive_duration)]
    pub duration: Duration,

    /// How long to run before measuring.
    #[arg(long, env = "PAIRLINK_BENCH_WARMUP", default_value = "0s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,

    /// A request (relay: a message) still unanswered after this long is an error and
    /// stops its pair.
    #[arg(long, env = "PAIRLINK_BENCH_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct BenchPairsArgs {
    #[command(flatten)]
    pub target: BenchTargetArgs,

    #[command(flatten)]
    pub load: BenchLoadArgs,

    /// The difficulty every controller sends.
    #[arg(
        long,
        env = "PAIRLINK_BENCH_DIFFICULTY",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub difficulty: i64,

    /// Open loop: this many round trips per second over all pairs, latency counted from
    /// each request's scheduled time. Without it, each pair sends as soon as its last
    /// round trip is done (closed loop). A pair wakes at most once a millisecond, so
    /// above 1000/s per pair it sends in bursts: use more pairs for smooth load.
    #[arg(long, env = "PAIRLINK_BENCH_RATE", value_parser = positive_rate)]
    pub rate: Option<f64>,
}

/// `bench relay`: protocol v2 pairs relaying `{"type":"relay","data":{"t":…,"n":…}}`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each message's data carries its send time and a sequence number per pair and \
direction, {\"t\":NANOS,\"n\":SEQ}; the receiving end of the same pair, in this process, reads \
both. Counted over the measured window: messages sent, delivered, lost (sent but not \
delivered by the end of the run); over the whole run: gaps (a later message arrived \
first), out of order, and errors ({\"type\":\"error\"} events by code). After the window \
the pairs stop sending and wait, up to --timeout, for the messages still on their way."
)]
pub struct BenchRelayArgs {
    #[command(flatten)]
    pub target: BenchTargetArgs,

    #[command(flatten)]
    pub load: BenchLoadArgs,

    /// Relay messages per second that each pair sends in each direction: open loop,
    /// latency counted from each message's scheduled time (60: game input at 60 Hz).
    /// 0: closed loop, each direction of a pair sends its next message as soon as its
    /// last one arrived.
    #[arg(long, env = "PAIRLINK_BENCH_RATE", default_value = "60", value_parser = rate_or_zero)]
    pub rate: f64,

    /// Who sends: both sides (both), the controller only (to-display, game input), or
    /// the display only (to-controller).
    #[arg(long, env = "PAIRLINK_BENCH_DIRECTION", value_enum, default_value_t = Directions::Both)]
    pub direction: Directions,

    /// Pad each message's data to at least this many bytes of JSON; without it the data
    /// is as small as it comes, {"t":…,"n":…}, about 30 bytes.
    #[arg(long, env = "PAIRLINK_BENCH_PAYLOAD_BYTES", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=16 * 1024 * 1024))]
    pub payload_bytes: u32,

    /// Send the data as binary frames, which pairlink relays as they are, instead of
    /// text {"type":"relay","data":…}.
    #[arg(long, env = "PAIRLINK_BENCH_BINARY")]
    pub binary: bool,

    /// The server's process id, if it runs on this machine: reports the CPU time it used
    /// in the measured window, and per message delivered. Several, comma-separated (both
    /// nodes, and Redis, for a cluster): each one's, and the sum per message.
    #[arg(long = "pid", env = "PAIRLINK_BENCH_PID", value_delimiter = ',')]
    pub pids: Vec<u32>,
}

#[derive(Debug, Args)]
pub struct BenchIdleArgs {
    #[command(flatten)]
    pub target: BenchTargetArgs,

    /// Display/controller pairs to open (two connections each).
    #[arg(long, env = "PAIRLINK_BENCH_PAIRS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub pairs: u32,

    /// How long to keep the pairs open once they all are. SIGINT or SIGTERM ends the hold
    /// sooner; the pairs are closed and the report printed all the same.
    #[arg(long, env = "PAIRLINK_BENCH_HOLD", default_value = "2s", value_parser = humantime::parse_duration)]
    pub hold: Duration,

    /// The server's process id, if it runs on this machine: reports its memory per
    /// connection. Several, comma-separated (the nodes of --url and --controller-url):
    /// each one's memory, and the cost per connection over all. Use freshly started
    /// servers: memory an allocator kept from earlier connections is reused and does not
    /// show as growth.
    #[arg(long = "pid", env = "PAIRLINK_BENCH_PID", value_delimiter = ',')]
    pub pids: Vec<u32>,
}

/// A rate in messages per second, zero or more.
fn rate_or_zero(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err("must be a number of messages per second, e.g. 60, or 0 for closed loop".to_owned()),
    }
}

/// A rate in round trips per second, more than zero.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("must be a number of round trips per second above zero, e.g. 5000".to_owned()),
    }
}

impl From<BenchPairsArgs> for PairsConfig {
    fn from(args: BenchPairsArgs) -> Self {
        Self {
            url: args.target.url,
            controller_url: args.target.controller_url,
            pairs: args.load.pairs as usize,
            duration: args.load.duration,
            warmup: args.load.warmup,
            difficulty: args.difficulty,
            rate: args.rate,
            timeout: args.load.timeout,
            connect_concurrency: args.target.connect_concurrency as usize,
            progress: true,
        }
    }
}

impl From<BenchRelayArgs> for RelayConfig {
    fn from(args: BenchRelayArgs) -> Self {
        Self {
            url: args.target.url,
            controller_url: args.target.controller_url,
            pairs: args.load.pairs as usize,
            duration: args.load.duration,
            warmup: args.load.warmup,
            rate: (args.rate > 0.0).then_some(args.rate),
            directions: args.direction,
            payload_bytes: args.payload_bytes as usize,
            binary: args.binary,
            timeout: args.load.timeout,
            pids: args.pids,
            connect_concurrency: args.target.connect_concurrency as usize,
            progress: true,
        }
    }
}

impl From<BenchIdleArgs> for IdleConfig {
    fn from(args: BenchIdleArgs) -> Self {
        Self {
            url: args.target.url,
            controller_url: args.target.controller_url,
            pairs: args.pairs as usize,
            hold: args.hold,
            end_hold: CancellationToken::new(),
            pids: args.pids,
            connect_concurrency: args.target.connect_concurrency as usize,
            progress: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// `pairlink bench MODE ARGS…`, parsed.
    fn bench(mode: &str, args: &[&str]) -> BenchCommand {
        let argv = ["pairlink", "bench", mode].into_iter().chain(args.iter().copied());
        let Command::Bench(BenchArgs { command }) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not bench");
        };
        command
    }

    fn idle(args: &[&str]) -> IdleConfig {
        let BenchCommand::Idle(args) = bench("idle", args) else {
            panic!("not bench idle");
        };
        args.into()
    }

    fn relay(args: &[&str]) -> RelayConfig {
        let BenchCommand::Relay(args) = bench("relay", args) else {
            panic!("not bench relay");
        };
        args.into()
    }

    #[test]
    fn bench_controllers_go_to_url_unless_told_otherwise() {
        let config = idle(&["--url", "ws://127.0.0.1:1"]);
        assert_eq!(config.controller_url, None);
        assert!(config.pids.is_empty());

        let config = idle(&[
            "--url",
            "ws://127.0.0.1:1",
            "--controller-url",
            "ws://127.0.0.1:2",
            "--pid",
            "10,20",
        ]);
        assert_eq!(config.controller_url, Some("ws://127.0.0.1:2".parse().unwrap()));
        assert_eq!(config.pids, [10, 20]);
    }

    #[test]
    fn bench_relay_defaults_to_60_a_second_both_ways_and_0_is_closed_loop() {
        let config = relay(&[]);
        assert_eq!(config.rate, Some(60.0));
        assert_eq!(config.directions, Directions::Both);
        assert_eq!((config.pairs, config.payload_bytes, config.binary), (50, 0, false));

        let config = relay(&[
            "--rate",
            "0",
            "--direction",
            "to-display",
            "--payload-bytes",
            "256",
            "--binary",
        ]);
        assert_eq!(config.rate, None);
        assert_eq!(config.directions, Directions::ToDisplay);
        assert_eq!((config.payload_bytes, config.binary), (256, true));
    }

    #[test]
    fn bench_relay_refuses_negative_rates_and_unknown_directions() {
        for args in [&["--rate", "-1"][..], &["--rate", "fast"], &["--direction", "sideways"]] {
            let argv = ["pairlink", "bench", "relay"].iter().chain(args);
            assert!(Cli::try_parse_from(argv).is_err(), "{args:?}");
        }
    }

    #[test]
    fn a_bench_controller_url_must_be_plain_websocket() {
        let argv = ["pairlink", "bench", "pairs", "--controller-url", "https://host:1"];
        let err = Cli::try_parse_from(argv).unwrap_err();
        assert!(err.to_string().contains("must start with ws://"), "{err}");
    }
}
