//! What each `pairlink` subcommand does, once its arguments are parsed. Errors carry a
//! sentence of context; `main` prints them.

use anyhow::Context;

use crate::cli::Command;
use crate::{auth, bench, client};

/// Why a command failed, by the exit status it earns.
#[derive(Debug)]
pub enum Failure {
    /// The arguments break a rule that spans several flags (exit 2).
    Usage(String),
    /// Something went wrong while running (exit 1).
    Runtime(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::Runtime(err)
    }
}

/// Runs one subcommand.
pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve(args) => serve(args.into_config().map_err(Failure::Usage)?).await?,
        Command::Migrate(args) => migrate(args).await?,
        Command::Import(args) => import(args).await?,
        Command::Export(args) => export(args).await?,
        Command::Bench(args) => bench(args).await?,
        Command::Client(args) => client::run(args.into()).await?,
        Command::Token(args) => {
            let scope = args.scope().map_err(Failure::Usage)?;
            println!("{}", auth::issue(&args.secret, &scope, args.ttl));
        }
    }
    Ok(())
}

use crate::app::Application;
use crate::catalog::export;
use crate::catalog::import::{CatalogFile, Format};
use crate::cli::{BenchArgs, BenchCommand, DatabaseArgs, ExportArgs, ImportArgs};
use crate::config::ServeConfig;
use crate::db::Database;
use crate::lifecycle;

/// `pairlink serve`: runs until SIGINT or SIGTERM.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(address = %app.local_addr(), "pairlink is listening");
    app.run_until_stopped(lifecycle::shutdown_signal()).await
}

/// `pairlink bench`: runs one bench and prints its report.
pub async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Pairs(args) => {
            let json = args.target.json;
            let report = bench::pairs::run(&args.into()).await?;
            bench::print(json, &report)
        }
        BenchCommand::Idle(args) => {
            let json = args.target.json;
            let config: bench::idle::IdleConfig = args.into();
            // Listening before the pairs open: a signal meanwhile ends the hold as soon as it
            // starts (the opening runs to its end), rather than killing the bench unreported.
            let end_hold = config.end_hold.clone();
            tokio::spawn(async move {
                lifecycle::shutdown_signal().await;
                end_hold.cancel();
            });
            let report = bench::idle::run(&config).await?;
            bench::print(json, &report)
        }
        BenchCommand::Room(args) => {
            let json = args.target.json;
            let report = bench::room::run(&args.into()).await?;
            bench::print(json, &report)
        }
        BenchCommand::Relay(args) => {
            let json = args.target.json;
            let report = bench::relay::run(&args.into()).await?;
            bench::print(json, &report)
        }
    }
}

/// `pairlink migrate`.
pub async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let db = Database::connect(&args.database_url).await?;
    db.migrate().await?;
    println!("migrations applied to {}", args.database_url);
    Ok(())
}

/// `pairlink import FILE…`: every file or nothing.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let mut catalog = CatalogFile::default();
    for path in &args.files {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let format = args.format.or_else(|| Format::of_path(path)).with_context(|| {
            format!(
                "cannot tell the format of {}: name it .json or .csv, or give --format",
                path.display()
            )
        })?;
        let not_imported =
            |errors| anyhow::anyhow!("{} was not imported, nothing was written: {errors}", path.display());
        let file = CatalogFile::parse(&bytes, format).map_err(not_imported)?;
        catalog.extend(file).map_err(not_imported)?;
    }
    let db = Database::connect(&args.database.database_url).await?;
    db.migrate().await?;
    let summary = catalog
        .write(&db)
        .await
        .context("the import failed, nothing was written")?;
    println!(
        "imported {} quizzes and {} actions into {}",
        summary.quizzes, summary.actions, args.database.database_url
    );
    Ok(())
}

/// `pairlink export`: JSON to standard output or a file, CSV into a directory.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let db = Database::connect(&args.database.database_url).await?;
    let summary = match (args.format, &args.out) {
        (Format::Json, None) => export::json(&db, &mut std::io::stdout().lock()).await?,
        (Format::Json, Some(path)) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            export::json(&db, &mut std::io::BufWriter::new(file)).await?
        }
        (Format::Csv, Some(dir)) => export::csv(&db, dir).await?,
        (Format::Csv, None) => {
            anyhow::bail!("--format csv writes two files (quizzes.csv, actions.csv): give --out DIR")
        }
    };
    if let Some(out) = &args.out {
        println!(
            "exported {} quizzes and {} actions to {}",
            summary.quizzes,
            summary.actions,
            out.display()
        );
    }
    Ok(())
}
