//! Integration tests: the real server on a free port, real WebSocket clients, real
//! SQLite and PostgreSQL databases. One binary, organised by feature.

mod bench;
mod cli;
mod content;
mod content_client;
mod content_errors;
mod content_files;
mod helpers;
mod lifecycle;
mod pairing;
mod pairing_errors;
mod storage;
