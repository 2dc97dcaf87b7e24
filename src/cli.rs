//! The `pairlink` command line. Every flag can also be set by an environment variable
//! (shown in `--help`), and a `.env` file in the working directory is read first.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::ServeConfig;
use crate::db::DatabaseUrl;
use crate::session::Limits;

#[derive(Debug, Parser)]
#[command(name = "pairlink", version, about = "Real-time device pairing and relay server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies migrations and loads demo content into an empty catalogue).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Load quizzes and actions from a JSON file, all rows or none.
    Import(ImportArgs),
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
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The catalogue file: {"quizzes":[…],"actions":[…]}.
    pub file: PathBuf,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl From<ServeArgs> for ServeConfig {
    fn from(args: ServeArgs) -> Self {
        Self {
            bind: args.bind,
            database: args.database.database_url,
            limits: Limits {
                max_message_bytes: args.max_message_bytes as usize,
                queue_capacity: args.queue_capacity as usize,
            },
        }
    }
}
