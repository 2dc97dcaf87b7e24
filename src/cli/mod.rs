//! The `pairlink` command line. Every flag can also be set by an environment variable
//! (shown in `--help`), and a `.env` file in the working directory is read first.
//! The server's flags are here; [`bench`] has the load generator's, [`tools`] those of
//! the client and token tools.

mod bench;
mod tools;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub use bench::{
    BenchArgs, BenchCommand, BenchIdleArgs, BenchLoadArgs, BenchPairsArgs, BenchRelayArgs, BenchRoomArgs,
    BenchTargetArgs,
};
pub use tools::{ClientArgs, ClientEndpoint, ScopeArgs, TokenArgs};

use crate::auth::AuthSecret;
use crate::backplane::RoomPolicy;
use crate::backplane::guesses::GuessLimit;
use crate::backplane::redis::RedisSettings;
use crate::catalog::import::Format;
use crate::config::ServeConfig;
use crate::config::{CodePolicy, PublicUrl};
use crate::content::AdminToken;
use crate::db::DatabaseUrl;
use crate::held::HoldPolicy;
use crate::origins::AllowedOrigin;
use crate::session::{Limits, RateLimit};
use crate::telemetry::LogFormat;
use crate::tls::TlsConfig;

#[derive(Debug, Parser)]
#[command(name = "pairlink", version, about = "Real-time device pairing and relay server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// How log lines are written on stderr: human or json.
    #[arg(long, global = true, env = "PAIRLINK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Let UUIDs and room names appear in logs (they are left out: a UUID is all it takes to connect as its display).
    #[arg(long, global = true, env = "PAIRLINK_LOG_IDS")]
    pub log_ids: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies migrations and loads demo content into an empty catalogue).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Load quizzes and actions from JSON or CSV files, all rows or none.
    Import(ImportArgs),
    /// Write the catalogue as JSON or CSV files that `import` reads back unchanged.
    Export(ExportArgs),
    /// Measure a server that speaks the seed pairing protocol (pairlink or any other).
    Bench(BenchArgs),
    /// Connect to a server as a display, controller, room member or echo client: prints
    /// what arrives, sends what is typed, reconnects when the connection drops.
    Client(ClientArgs),
    /// Issue a connection token for a server started with --auth-secret (what a game's backend does).
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Catalogue database: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://pairlink.db")]
    pub database_url: DatabaseUrl,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PAIRLINK_BIND", default_value = "0.0.0.0:8080")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Largest WebSocket message a client may send, in bytes; larger ones close the connection with 1009.
    #[arg(long, env = "PAIRLINK_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(64..=16 * 1024 * 1024))]
    pub max_message_bytes: u32,

    /// Unsent messages a connection may hold; a client that lets it fill is closed with 1013.
    #[arg(long, env = "PAIRLINK_QUEUE_CAPACITY", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub queue_capacity: u32,

    /// How long a message may wait for room in a connection's full queue before that client counts as not reading (closed with 1013).
    #[arg(long, env = "PAIRLINK_SLOW_CONSUMER_TIMEOUT", default_value = "5s", value_parser = positive_duration)]
    pub slow_consumer_timeout: Duration,

    /// How long a write to a client's socket may stall before that client is disconnected.
    #[arg(long, env = "PAIRLINK_WRITE_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    pub write_timeout: Duration,

    /// How often each connection is pinged (e.g. 20s, 500ms).
    #[arg(long, env = "PAIRLINK_PING_INTERVAL", default_value = "20s", value_parser = positive_duration)]
    pub ping_interval: Duration,

    /// Close a connection that sent nothing, not even a pong, for this long (4002).
    #[arg(long, env = "PAIRLINK_IDLE_TIMEOUT", default_value = "60s", value_parser = positive_duration)]
    pub idle_timeout: Duration,

    /// Messages per second each connection may send, as RATE or RATE/BURST (e.g. 20/40); unlimited if unset.
    #[arg(long, env = "PAIRLINK_RATE_LIMIT")]
    pub rate_limit: Option<RateLimit>,

    /// WebSocket connections served at once; further upgrades get HTTP 503.
    #[arg(long, env = "PAIRLINK_MAX_CONNECTIONS", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// A client must finish sending its HTTP request (the WebSocket handshake) within this time.
    #[arg(long, env = "PAIRLINK_HANDSHAKE_TIMEOUT", default_value = "5s", value_parser = positive_duration)]
    pub handshake_timeout: Duration,

    /// Hold a controller's draws while its display is offline, for this long (0 = off: answer display_offline).
    #[arg(long, env = "PAIRLINK_HOLD_FOR", default_value = "0s", value_parser = humantime::parse_duration)]
    pub hold_for: Duration,

    /// Draws held per UUID at most; more are answered queue_full. At most --queue-capacity.
    #[arg(long, env = "PAIRLINK_HOLD_MAX", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub hold_max: u32,

    /// Messages each room keeps for members that rejoin with ?since= (0 = no recovery).
    #[arg(long, env = "PAIRLINK_ROOM_HISTORY", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub room_history: u32,

    /// How long an empty room keeps its history before it is forgotten (0s = at once).
    #[arg(long, env = "PAIRLINK_ROOM_RETENTION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub room_retention: Duration,

    /// Rooms of up to this many members show joiners every member and tell members of joins and leaves; bigger ones give joiners only the count (0 = never).
    #[arg(long, env = "PAIRLINK_ROOM_NOTICES_UP_TO", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub room_notices_up_to: u32,

    /// How long a display's pairing code stays valid (it also ends when the display disconnects).
    #[arg(long, env = "PAIRLINK_CODE_TTL", default_value = "10m", value_parser = positive_duration)]
    pub code_ttl: Duration,

    /// Base of the join URLs in pairing QR codes (http(s):// or ws(s)://); default: the host the client used.
    #[arg(long, env = "PAIRLINK_PUBLIC_URL")]
    pub public_url: Option<PublicUrl>,

    /// Unknown pairing codes one client address may look up per window, as MISSES/WINDOW; then HTTP 429.
    #[arg(long, env = "PAIRLINK_CODE_GUESSES", default_value = "10/1m")]
    pub code_guesses: GuessLimit,

    /// On SIGINT/SIGTERM, how long to wait for connections to flush and close.
    #[arg(long, env = "PAIRLINK_SHUTDOWN_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,

    /// Bearer token that authorises content API writes (POST/PUT/DELETE under /api); without it they get 403.
    #[arg(long, env = "PAIRLINK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<AdminToken>,

    /// Require every WebSocket to present a token (JWT, HS256) signed with this secret (at least 32 bytes); see `pairlink token`.
    #[arg(long, env = "PAIRLINK_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<AuthSecret>,

    /// Web page origins allowed to connect, comma-separated (e.g. https://game.example.com); all if unset.
    #[arg(long, env = "PAIRLINK_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<AllowedOrigin>>,

    /// Scale out: share the pairing space, rooms and signaling with every node on this Redis (redis://HOST[:PORT][/DB]).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Put in front of every Redis key and channel, so that clusters can share a Redis.
    #[arg(long, env = "PAIRLINK_REDIS_PREFIX", default_value = "pairlink:")]
    pub redis_prefix: String,

    /// How often a node tells Redis it is alive; its connections count as gone after three missed beats.
    #[arg(long, env = "PAIRLINK_HEARTBEAT_INTERVAL", default_value = "2s", value_parser = positive_duration)]
    pub heartbeat_interval: Duration,

    /// Serve https:// and wss:// with this PEM certificate chain (with --tls-key); re-read on SIGHUP or when it changes.
    #[arg(long, env = "PAIRLINK_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, env = "PAIRLINK_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
}

/// A duration such as `20s` or `500ms` that is more than zero.
pub(crate) fn positive_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err("must be more than zero".to_owned()),
        Err(err) => Err(format!("{err} (use a duration such as 20s or 500ms)")),
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Catalogue files, written in one transaction: JSON {"quizzes":[…],"actions":[…]}, or CSV with one table per file (a header with `name` holds quizzes, without it actions).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// The files' format; by default each file's extension (.json or .csv) tells.
    #[arg(long)]
    pub format: Option<Format>,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// json: one document; csv: quizzes.csv and actions.csv in the --out directory.
    #[arg(long, default_value = "json")]
    pub format: Format,

    /// Where to write: a file for json (standard output if not given), a directory for csv.
    #[arg(long)]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl ServeArgs {
    /// Checks the rules that span several flags and builds the typed settings.
    pub fn into_config(self) -> Result<ServeConfig, String> {
        let args = self;
        if !args.hold_for.is_zero() && args.hold_max > args.queue_capacity {
            return Err(format!(
                "--hold-max ({}) must not exceed --queue-capacity ({}): held draws are delivered through that queue",
                args.hold_max, args.queue_capacity
            ));
        }
        let tls = match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => Some(TlsConfig::new(cert, key)),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key go together: give both or neither".to_owned()),
        };
        Ok(ServeConfig {
            bind: args.bind,
            database: args.database.database_url,
            handshake_timeout: args.handshake_timeout,
            shutdown_timeout: args.shutdown_timeout,
            tls,
            rooms: RoomPolicy {
                history: args.room_history as usize,
                retention: args.room_retention,
                notices_up_to: args.room_notices_up_to as usize,
            },
            codes: CodePolicy {
                ttl: args.code_ttl,
                public_url: args.public_url,
                guesses: args.code_guesses,
            },
            admin_token: args.admin_token,
            auth_secret: args.auth_secret,
            redis: args.redis_url.map(|url| RedisSettings {
                url,
                prefix: args.redis_prefix,
                heartbeat: args.heartbeat_interval,
            }),
            allowed_origins: args.allowed_origins,
            hold: (!args.hold_for.is_zero()).then_some(HoldPolicy {
                hold_for: args.hold_for,
                hold_max: args.hold_max as usize,
            }),
            limits: Limits {
                max_message_bytes: args.max_message_bytes as usize,
                queue_capacity: args.queue_capacity as usize,
                slow_consumer_timeout: args.slow_consumer_timeout,
                write_timeout: args.write_timeout,
                ping_interval: args.ping_interval,
                idle_timeout: args.idle_timeout,
                rate_limit: args.rate_limit,
                max_connections: args.max_connections as usize,
            },
        })
    }
}
