//! The server's settings as typed values, checked once at start-up.
//! The command line (`cli`) produces them; tests build them directly.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::AuthSecret;
use crate::backplane::RoomPolicy;
use crate::backplane::redis::RedisSettings;
use crate::content::AdminToken;
use crate::db::DatabaseUrl;
use crate::origins::AllowedOrigin;
use crate::pairing::codes::CodePolicy;
use crate::pairing::held::HoldPolicy;
use crate::session::Limits;
use crate::tls::TlsConfig;

/// Everything `pairlink serve` needs to run.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen. `0.0.0.0:8080` by default: headsets and phones reach it over the LAN.
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub limits: Limits,
    /// A client must finish its HTTP request (the WebSocket handshake) within this time.
    pub handshake_timeout: Duration,
    /// How long shutdown waits for connections to flush and close.
    pub shutdown_timeout: Duration,
    /// Held delivery for offline displays; off when `None`.
    pub hold: Option<HoldPolicy>,
    /// Room history for recovery.
    pub rooms: RoomPolicy,
    /// Pairing codes: lifetime, join URL base, guessing limit.
    pub codes: CodePolicy,
    /// Authorises writes to the content API; writes are refused when `None`.
    pub admin_token: Option<AdminToken>,
    /// Connections must present a token signed with this secret; open when `None`.
    pub auth_secret: Option<AuthSecret>,
    /// Scale-out through Redis; one process alone when `None`.
    pub redis: Option<RedisSettings>,
    /// Browser origins allowed to connect; all when `None`.
    pub allowed_origins: Option<Vec<AllowedOrigin>>,
    /// Serve HTTPS and WSS with this certificate; plain HTTP and WS when `None`.
    pub tls: Option<TlsConfig>,
}

impl ServeConfig {
    /// Settings for a server on `bind` with `database` and default limits.
    pub fn new(bind: SocketAddr, database: DatabaseUrl) -> Self {
        Self {
            bind,
            database,
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
            hold: None,
            rooms: RoomPolicy::default(),
            codes: CodePolicy::default(),
            admin_token: None,
            auth_secret: None,
            redis: None,
            allowed_origins: None,
            tls: None,
        }
    }
}
