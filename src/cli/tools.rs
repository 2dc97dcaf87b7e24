//! The flags of `pairlink client` and `pairlink token`.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::positive_duration;
use crate::auth::{AuthSecret, Scope};
use crate::bench::connect::ServerUrl;
use crate::client::{ClientConfig, Endpoint};
use crate::protocol::Version;
use crate::protocol::rooms::MemberName;
use crate::protocol::{DeviceId, Role, RoomName};

#[derive(Debug, Args)]
pub struct ClientArgs {
    #[command(subcommand)]
    pub endpoint: ClientEndpoint,

    /// The server's base URL.
    #[arg(long, global = true, env = "PAIRLINK_URL", default_value = "ws://127.0.0.1:8080")]
    pub url: ServerUrl,

    /// First wait before reconnecting; doubles per failed attempt (with jitter).
    #[arg(long, global = true, default_value = "500ms", value_parser = positive_duration)]
    pub retry_initial: Duration,

    /// Longest wait between reconnection attempts.
    #[arg(long, global = true, default_value = "30s", value_parser = positive_duration)]
    pub retry_max: Duration,

    /// Speak the seed's protocol (v1) instead of v2, as an existing app does.
    #[arg(long, global = true)]
    pub v1: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientEndpoint {
    /// Be the display of UUID: print draws, presence and what its controller relays; typed lines are relay data for the controller.
    Display { uuid: DeviceId },
    /// Be the controller of UUID: a typed number is a difficulty, other lines relay data for the display.
    Controller {
        uuid: DeviceId,
        /// Send this difficulty as soon as connected.
        #[arg(long, allow_negative_numbers = true)]
        difficulty: Option<i64>,
    },
    /// Join room NAME: typed lines must be JSON values; reconnections recover missed messages.
    Room {
        room: RoomName,
        /// The name others see.
        #[arg(long)]
        name: Option<MemberName>,
    },
    /// Talk to /echo.
    Echo,
}

impl From<ClientArgs> for ClientConfig {
    fn from(args: ClientArgs) -> Self {
        let endpoint = match args.endpoint {
            ClientEndpoint::Display { uuid } => Endpoint::Display(uuid),
            ClientEndpoint::Controller { uuid, difficulty } => Endpoint::Controller {
                device: uuid,
                difficulty,
                next_id: 0,
            },
            ClientEndpoint::Room { room, name } => Endpoint::Room {
                room,
                name,
                last_seq: None,
            },
            ClientEndpoint::Echo => Endpoint::Echo,
        };
        Self {
            url: args.url,
            endpoint,
            retry_initial: args.retry_initial,
            retry_max: args.retry_max.max(args.retry_initial),
            version: if args.v1 { Version::V1 } else { Version::V2 },
        }
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The server's --auth-secret (also accepted as --secret, its former name).
    #[arg(
        long = "auth-secret",
        alias = "secret",
        env = "PAIRLINK_AUTH_SECRET",
        hide_env_values = true
    )]
    pub secret: AuthSecret,

    /// How long the token is valid.
    #[arg(long, default_value = "1h", value_parser = positive_duration)]
    pub ttl: Duration,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// With --uuid: only this side of the pair.
    #[arg(long, value_parser = ["display", "controller"])]
    pub role: Option<String>,
}

impl TokenArgs {
    /// What the token opens, or the usage error.
    pub fn scope(&self) -> Result<Scope, String> {
        let args = &self.scope;
        if self.role.is_some() && args.uuid.is_none() {
            return Err("--role goes with --uuid: it names one side of a pair".to_owned());
        }
        Ok(match (args.uuid, &args.room, &args.signal) {
            (Some(uuid), _, _) => match self.role.as_deref() {
                Some("display") => Scope::Side(uuid, Role::Display),
                Some(_) => Scope::Side(uuid, Role::Controller),
                None => Scope::Device(uuid),
            },
            (_, Some(room), _) => Scope::Room(room.clone()),
            (_, _, Some(room)) => Scope::Signal(room.clone()),
            _ if args.hub => Scope::Hub,
            _ => Scope::Echo,
        })
    }
}

/// What the token opens: exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ScopeArgs {
    /// Both sides of the pair with this UUID (and asking its display's pairing code).
    #[arg(long)]
    pub uuid: Option<DeviceId>,
    /// The room /ws/rooms/ROOM.
    #[arg(long)]
    pub room: Option<RoomName>,
    /// The signaling room /ws/signal/ROOM.
    #[arg(long)]
    pub signal: Option<RoomName>,
    /// The chat hub /ws.
    #[arg(long)]
    pub hub: bool,
    /// /echo.
    #[arg(long)]
    pub echo: bool,
}
