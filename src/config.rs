//! The server's settings as typed values, checked once at start-up.
//! The command line (`cli`) produces them; tests build them directly.

use std::net::SocketAddr;

use crate::db::DatabaseUrl;
use crate::session::Limits;

/// Everything `pairlink serve` needs to run.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen. `0.0.0.0:8080` by default: headsets and phones reach it over the LAN.
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub limits: Limits,
}

impl ServeConfig {
    /// Settings for a server on `bind` with `database` and default limits.
    pub fn new(bind: SocketAddr, database: DatabaseUrl) -> Self {
        Self {
            bind,
            database,
            limits: Limits::default(),
        }
    }
}
