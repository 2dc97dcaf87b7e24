//! `pairlink bench`: a load generator for any server that speaks the seed pairing
//! protocol, pairlink or another (the Go seed, for one); `relay` needs protocol v2.
//!
//! - [`pairs`]: pairs exchanging difficulties, closed or open loop; throughput and latency.
//! - [`idle`]: many idle pairs held open; how fast they open, memory per connection.
//! - [`room`]: many members of one room, some sending; fan-out rate and latency.
//! - [`relay`]: protocol v2 pairs relaying messages both ways; their rate, latency and
//!   losses ([`lane`]: one direction's sequence; [`relay_report`]: its figures).
//! - [`connect`]: the server's URL and opening pairs ([`greet`]: a v2 pair's welcomes);
//!   [`wire`]: checking what comes back; [`inflight`]: matching replies to requests;
//!   [`report`]: the figures; [`progress`]: bars; [`procfs`]: a local server's memory and CPU.

pub mod connect;
pub mod greet;
pub mod idle;
pub mod inflight;
pub mod lane;
pub mod pairs;
pub mod procfs;
pub mod progress;
pub mod relay;
pub mod relay_report;
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
