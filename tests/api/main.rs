//! Integration tests: the real server on a free port, real WebSocket clients, real
//! SQLite and PostgreSQL databases. One binary, organised by feature.

mod bench;
mod cli;
mod client;
mod helpers;
mod hub;
mod lifecycle;
mod pairing;
mod pairing_codes;
mod pairing_errors;
mod relay;
mod rooms;
mod signaling;
mod storage;
mod tls;
