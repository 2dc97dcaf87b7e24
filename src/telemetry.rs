//! Logging: `tracing` to stderr, as human-readable lines or as JSON objects
//! (`--log-format json`, for log collectors). Every connection logs inside a span with
//! its id, endpoint and role; UUIDs and room names join it only with `--log-ids`, since a
//! UUID is all it takes to connect as its display.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per event, with the span's fields.
    Json,
}

static LOG_IDS: AtomicBool = AtomicBool::new(false);

/// Starts logging. `RUST_LOG` filters it (default `pairlink=info`).
pub fn init(format: LogFormat, log_ids: bool) {
    LOG_IDS.store(log_ids, Ordering::Relaxed);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("pairlink=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Ignoring the error keeps a second call (tests) harmless.
    let _ = match format {
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}

/// Whether UUIDs and room names may appear in logs (`--log-ids`).
pub fn log_ids() -> bool {
    LOG_IDS.load(Ordering::Relaxed)
}
