//! The `pairlink` binary: parses the command line and runs one subcommand. Failures
//! print one sentence on stderr and exit with status 1 (usage errors: 2).

use std::process::ExitCode;

use clap::Parser;
use pairlink::cli::Cli;
use pairlink::commands::{self, Failure};
use pairlink::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            eprintln!("error: cannot read .env: {err}");
            return ExitCode::FAILURE;
        }
    }
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
