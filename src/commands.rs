//! What each `pairlink` subcommand does, once its arguments are parsed. Errors carry a
//! sentence of context; `main` prints them.

use anyhow::Context;

use crate::app::{self, Application};
use crate::catalog::import::CatalogFile;
use crate::cli::{DatabaseArgs, ImportArgs};
use crate::config::ServeConfig;
use crate::db::Database;

/// `pairlink serve`: runs until SIGINT or SIGTERM.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(address = %app.local_addr(), "pairlink is listening");
    app.run_until_stopped(app::shutdown_signal()).await
}

/// `pairlink migrate`.
pub async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let db = Database::connect(&args.database_url).await?;
    db.migrate().await?;
    println!("migrations applied to {}", args.database_url);
    Ok(())
}

/// `pairlink import FILE`: the whole file or nothing.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
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
