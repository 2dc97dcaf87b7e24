//! Integration tests: the real server on a free port, real WebSocket clients, real
//! SQLite and PostgreSQL databases. One binary, organised by feature.

mod cli;
mod helpers;
mod pairing;
mod pairing_errors;
mod storage;
