//! `pairlink bench`: a load generator for any server that speaks the seed pairing
//! protocol, pairlink or another (the Go seed, for one).
//!
//! - [`pairs`]: pairs exchanging difficulties, closed or open loop; throughput and latency.
//! - [`idle`]: many idle pairs held open; how fast they open, memory per connection.
//! - [`room`]: many members of one room, some sending; fan-out rate and latency.
//! - [`connect`]: the server's URL and opening pairs; [`wire`]: checking what comes back;
//!   [`inflight`]: matching replies to requests; [`report`]: the figures; [`progress`]: bars.

pub mod connect;
pub mod idle;
pub mod inflight;
pub mod pairs;
pub mod progress;
pub mod report;
pub mod room;
pub mod wire;

use std::fmt::Display;

use serde::Serialize;

use crate::cli::{BenchArgs, BenchCommand};

/// Runs one bench and prints its report: the human summary, or one JSON object.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Pairs(args) => {
            let json = args.target.json;
            let report = pairs::run(&args.into()).await?;
            print(json, &report)
        }
        BenchCommand::Idle(args) => {
            let json = args.target.json;
            let config: idle::IdleConfig = args.into();
            // Listening before the pairs open: a signal meanwhile ends the hold as soon as it
            // starts (the opening runs to its end), rather than killing the bench unreported.
            let end_hold = config.end_hold.clone();
            tokio::spawn(async move {
                crate::lifecycle::shutdown_signal().await;
                end_hold.cancel();
            });
            let report = idle::run(&config).await?;
            print(json, &report)
        }
        BenchCommand::Room(args) => {
            let json = args.target.json;
            let report = room::run(&args.into()).await?;
            print(json, &report)
        }
    }
}

fn print(json: bool, report: &(impl Serialize + Display)) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
