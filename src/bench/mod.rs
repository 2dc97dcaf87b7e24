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

/// Prints a bench's report: the human summary, or one JSON object.
pub fn print(json: bool, report: &(impl Serialize + Display)) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
