//! The `pairlink` binary: parses the command line and runs one subcommand. Failures
//! print one sentence on stderr and exit with status 1 (usage errors: 2).

use std::process::ExitCode;

use clap::Parser;
use pairlink::cli::{Cli, Command};
use pairlink::{auth, bench, client, commands, telemetry};

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
    let result = match cli.command {
        Command::Serve(args) => match args.into_config() {
            Ok(config) => commands::serve(config).await,
            Err(usage) => {
                eprintln!("error: {usage}");
                return ExitCode::from(2);
            }
        },
        Command::Migrate(args) => commands::migrate(args).await,
        Command::Import(args) => commands::import(args).await,
        Command::Export(args) => commands::export(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Client(args) => client::run(args.into()).await,
        Command::Token(args) => {
            println!("{}", auth::issue(&args.secret, &args.scope.into(), args.ttl));
            Ok(())
        }
    };
    let Err(err) = result else { return ExitCode::SUCCESS };
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
