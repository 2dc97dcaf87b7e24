//! The `pairlink` binary: parses the command line and runs one subcommand. Failures
//! print one sentence on stderr and exit with status 1 (clap's own usage errors: 2).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use pairlink::app::Application;
use pairlink::catalog::import::CatalogFile;
use pairlink::cli::{Cli, Command, DatabaseArgs, ImportArgs};
use pairlink::db::Database;
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
    telemetry::init();
    let result = match cli.command {
        Command::Serve(args) => match args.into_config() {
            Ok(config) => serve(config).await,
            Err(usage) => {
                eprintln!("error: {usage}");
                return ExitCode::from(2);
            }
        },
        Command::Migrate(args) => migrate(args).await,
        Command::Import(args) => import(args).await,
        Command::Bench(args) => pairlink::bench::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The context says what failed, the root cause why; the layers between
            // (sqlx wrapping a driver error) would only repeat the cause.
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

async fn serve(config: pairlink::config::ServeConfig) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(address = %app.local_addr(), "pairlink is listening");
    app.run_until_stopped(pairlink::app::shutdown_signal()).await
}

async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let db = Database::connect(&args.database_url).await?;
    db.migrate().await?;
    println!("migrations applied to {}", args.database_url);
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let file = CatalogFile::parse_json(&bytes).map_err(|errors| {
        anyhow::anyhow!(
            "{} was not imported, nothing was written: {errors}",
            args.file.display()
        )
    })?;
    let db = Database::connect(&args.database.database_url).await?;
    db.migrate().await?;
    let summary = file
        .write(&db)
        .await
        .context("the import failed, nothing was written")?;
    println!(
        "imported {} quizzes and {} actions into {}",
        summary.quizzes, summary.actions, args.database.database_url
    );
    Ok(())
}
