//! pairlink: a real-time device pairing and relay server.
//!
//! Code tour, in reading order:
//! - [`app`]: builds and runs the server, and the routes; [`state`]: what handlers share;
//!   [`lifecycle`]: background tasks that end with the server.
//! - [`pairing`]: the display/controller protocol over WebSocket, with [`held`] delivery
//!   for a display that dropped out; [`echo`]: `/echo`.
//! - [`chat_hub`] (`/ws`), [`rooms`] (`/ws/rooms/{room}`) and [`signaling`]
//!   (`/ws/signal/{room}`): groups of connections, joined through [`membership`].
//! - [`session`]: one WebSocket connection as an actor that alone owns its socket, with
//!   its bounded [`session::outbox`].
//! - [`hub`]: this node's connections, and every delivery into their outboxes;
//!   [`backplane`]: what crosses nodes (in-process alone, Redis in a cluster);
//!   [`address`]: what a message is sent to.
//! - [`catalog`]: quizzes and actions in memory for O(1) draws, and their database rows.
//! - [`content`]: the catalogue over REST under `/api`, with its OpenAPI document.
//! - [`console`]: the web console at `/`, embedded in the binary; [`stats`]: `/api/stats`,
//!   the numbers its status panel shows.
//! - [`protocol`]: every message and identifier on the wire, parsed once.
//! - [`bench`]: `pairlink bench`, a load generator for any server speaking the protocol.
//! - [`client`]: `pairlink client`, a reconnecting terminal client for each endpoint.
//! - [`db`], [`config`], [`cli`], [`commands`], [`listener`], [`telemetry`]: the edges;
//!   [`tls`]: HTTPS/WSS and certificate reload.

pub mod address;
pub mod app;
pub mod auth;
pub mod backplane;
pub mod bench;
pub mod catalog;
pub mod chat_hub;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod console;
pub mod content;
pub mod db;
pub mod echo;
pub mod health;
pub mod held;
pub mod hub;
pub mod lifecycle;
pub mod listener;
pub mod membership;
pub mod metrics;
pub mod origins;
pub mod pairing;
pub mod protocol;
pub mod rooms;
pub mod session;
pub mod signaling;
pub mod state;
pub mod stats;
pub mod telemetry;
pub mod tls;
