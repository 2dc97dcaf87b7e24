//! Integration tests: the real server on a free port, real WebSocket clients, real
//! SQLite and PostgreSQL databases. One binary, organised by feature.

mod architecture;
mod bench;
mod cli;
mod client;
mod cluster;
mod console;
mod content;
mod content_client;
mod content_errors;
mod content_files;
mod cross_node;
mod deployment;
mod fuzz;
mod helpers;
mod hub;
mod lifecycle;
mod operations;
mod pairing;
mod pairing_codes;
mod pairing_errors;
mod pairing_v2;
mod process;
mod refusal;
mod refusal_v2;
mod relay;
mod relay_v2;
mod rooms;
mod rooms_presence;
mod rooms_recovery;
mod schema;
mod security;
mod signaling;
mod storage;
mod tls;
mod v2_client;
