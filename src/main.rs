//! The `pairlink` binary: parses the command line and runs one subcommand. Failures
//! print one sentence on stderr and exit with status 1 (usage errors: 2).

use std::process::ExitCode;

use clap::Parser;
use pairlink::cli::Cli;
use pairlink::commands::{self, Failure};
use pairlink::telemetry;

fn main() -> ExitCode {
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            eprintln!("error: cannot read .env: {err}");
            return ExitCode::FAILURE;
        }
    }
    match runtime() {
        Ok(runtime) => runtime.block_on(run()),
        Err(usage) => {
            eprintln!("error: {usage}");
            ExitCode::from(2)
        }
    }
}

/// tokio's multi-threaded runtime: one worker thread per core, or as many as
/// `TOKIO_WORKER_THREADS` says (nodes that share a machine each take their share of its
/// cores: docs/configuration.md). tokio reads that variable itself and panics on a
/// value it cannot use, so the value is checked here first. Read after `.env`, which
/// may set it.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    if let Some(value) = std::env::var_os("TOKIO_WORKER_THREADS") {
        let threads = value.to_str().and_then(|text| text.parse::<usize>().ok());
        if threads.is_none_or(|threads| threads == 0) {
            return Err(format!(
                "TOKIO_WORKER_THREADS must be a whole number of threads above 0, not {value:?}"
            ));
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.log_ids);
    match commands::run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(usage)) => {
            eprintln!("error: {usage}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(err)) => {
            // The context says what failed, the root cause why; the layers between (sqlx
            // wrapping a driver error) would only repeat the cause.
            let cause = err.root_cause().to_string();
            if cause == err.to_string() {
                eprintln!("error: {err}");
            } else {
                eprintln!("error: {err}: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
