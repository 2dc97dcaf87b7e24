//! Integration tests: the real server on a free port, real WebSocket clients, real
//! SQLite and PostgreSQL databases. One binary, organised by feature.

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
mod process;
mod refusal;
mod relay;
mod rooms;
mod rooms_recovery;
mod schema;
mod security;
mod signaling;
mod storage;
mod tls;
