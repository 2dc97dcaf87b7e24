//! The server's settings as typed values, checked once at start-up.
//! The command line (`cli`) produces them; tests build them directly.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::AuthSecret;
use crate::backplane::RoomPolicy;
use crate::backplane::guesses::GuessLimit;
use crate::backplane::redis::RedisSettings;
use crate::content::AdminToken;
use crate::db::DatabaseUrl;
use crate::held::HoldPolicy;
use crate::origins::AllowedOrigin;
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

/// How codes are issued and looked up (`--code-ttl`, `--public-url`, `--code-guesses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePolicy {
    pub ttl: Duration,
    pub public_url: Option<PublicUrl>,
    pub guesses: GuessLimit,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            public_url: None,
            guesses: GuessLimit::default(),
        }
    }
}

/// The longest `--public-url`: join URLs must fit in a QR code a phone reads easily.
const MAX_PUBLIC_URL: usize = 512;

/// The base of join URLs in QR codes (`--public-url`), kept as a WebSocket URL: an
/// `http(s)://` base is turned into `ws(s)://`, so an app that scans the code can connect
/// to it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// The base, as `ws(s)://host[/path]`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for PublicUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("{s:?} is not a URL such as https://play.example.com"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(format!("the public URL must be http, https, ws or wss, not {other}")),
        };
        let rest = rest.trim_end_matches('/');
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || rest.contains(['?', '#', ' ']) || s.len() > MAX_PUBLIC_URL {
            return Err(format!(
                "{s:?} needs a host, no query, fragment or spaces, and at most {MAX_PUBLIC_URL} characters"
            ));
        }
        Ok(Self(format!("{scheme}://{rest}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_become_websocket_bases() {
        for (given, base) in [
            ("https://play.example.com/", "wss://play.example.com"),
            ("http://10.0.0.5:8080", "ws://10.0.0.5:8080"),
            ("wss://example.com/pairlink", "wss://example.com/pairlink"),
            ("WS://example.com", "ws://example.com"),
        ] {
            assert_eq!(given.parse::<PublicUrl>(), Ok(PublicUrl(base.to_owned())));
        }
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://",
            "https://x.com/?a=1",
            "https://x.com/#f",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad:?}");
        }
    }
}
