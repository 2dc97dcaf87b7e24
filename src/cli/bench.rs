//! The flags of `pairlink bench`.

use std::time::Duration;

use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;

use super::positive_duration;
use crate::bench::connect::ServerUrl;
use crate::bench::idle::IdleConfig;
use crate::bench::pairs::PairsConfig;
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
}

impl From<BenchRoomArgs> for RoomConfig {
    fn from(args: BenchRoomArgs) -> Self {
        Self {
            url: args.target.url,
            room: args.room.to_string(),
            members: args.members as usize,
            senders: args.senders.min(args.members) as usize,
            rate: args.rate,
            duration: args.duration,
            connect_concurrency: args.target.connect_concurrency as usize,
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

#[derive(Debug, Args)]
pub struct BenchPairsArgs {
    #[command(flatten)]
    pub target: BenchTargetArgs,

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

    /// A request still unanswered after this long is an error and stops its pair.
    #[arg(long, env = "PAIRLINK_BENCH_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub timeout: Duration,
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
            pairs: args.pairs as usize,
            duration: args.duration,
            warmup: args.warmup,
            difficulty: args.difficulty,
            rate: args.rate,
            timeout: args.timeout,
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

    fn idle(args: &[&str]) -> IdleConfig {
        let argv = ["pairlink", "bench", "idle"].iter().chain(args);
        let Command::Bench(BenchArgs {
            command: BenchCommand::Idle(args),
        }) = Cli::try_parse_from(argv).unwrap().command
        else {
            panic!("not bench idle");
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
    fn a_bench_controller_url_must_be_plain_websocket() {
        let argv = ["pairlink", "bench", "pairs", "--controller-url", "https://host:1"];
        let err = Cli::try_parse_from(argv).unwrap_err();
        assert!(err.to_string().contains("must start with ws://"), "{err}");
    }
}
