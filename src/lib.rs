//! pairlink: a real-time device pairing and relay server.
//!
//! Code tour, in reading order:
//! - [`app`]: builds and runs the server; the routes; the state handlers share.
//! - [`pairing`]: the seed's display/controller protocol over WebSocket; [`echo`]: `/echo`.
//! - [`hub`] (`/ws`), [`rooms`] (`/ws/rooms/{room}`) and [`signaling`] (`/ws/signal/{room}`):
//!   groups of connections, kept by the [`broker`].
//! - [`session`]: one WebSocket connection as an actor that alone owns its socket, with
//!   its bounded [`session::outbox`].
//! - [`broker`]: the seam through which a message reaches another connection
//!   (in-process today, other nodes later).
//! - [`catalog`]: quizzes and actions in memory for O(1) draws, and their database rows.
//! - [`content`]: the catalogue over REST under `/api`, with its OpenAPI document.
//! - [`console`]: the web console at `/`, embedded in the binary; [`stats`]: `/api/stats`,
//!   the numbers its status panel shows.
//! - [`protocol`]: every message and identifier on the wire, parsed once.
//! - [`bench`]: `pairlink bench`, a load generator for any server speaking the protocol.
//! - [`client`]: `pairlink client`, a reconnecting terminal client for each endpoint.
//! - [`db`], [`config`], [`cli`], [`commands`], [`listener`], [`telemetry`]: the edges;
//!   [`tls`]: HTTPS/WSS and certificate reload.

pub mod app;
pub mod auth;
pub mod bench;
pub mod broker;
pub mod catalog;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod console;
pub mod content;
pub mod db;
pub mod echo;
pub mod health;
pub mod hub;
pub mod listener;
pub mod membership;
pub mod metrics;
pub mod origins;
pub mod pairing;
pub mod protocol;
pub mod rooms;
pub mod session;
pub mod signaling;
pub mod stats;
pub mod telemetry;
pub mod tls;
