//! Reading the catalogue's rows into the in-memory [`Catalog`], and first-run demo content.

use anyhow::Context;
use futures_util::TryStreamExt;

use super::Catalog;
use super::import::CatalogFile;
use crate::db::Database;

/// Demo quizzes and actions at difficulties 1–5, loaded into an empty database by
/// `serve` so that a first run has something to draw.
const DEMO_CATALOG: &str = include_str!("../../demo/catalog.json");

/// Reads every quiz and action id with its difficulty. Rows whose difficulty is NULL
/// (the seed schema allows it) can never be drawn and are skipped.
pub async fn load(db: &Database) -> anyhow::Result<Catalog> {
    let quizzes = ids_by_difficulty(db, "SELECT id, difficulty FROM quizzes WHERE difficulty IS NOT NULL")
        .await
        .context("cannot read the quizzes")?;
    let actions = ids_by_difficulty(db, "SELECT id, difficulty FROM actions WHERE difficulty IS NOT NULL")
        .await
        .context("cannot read the actions")?;
    Ok(Catalog::from_ids(quizzes, actions))
}

async fn ids_by_difficulty(db: &Database, sql: &str) -> Result<Vec<(i32, i32)>, sqlx::Error> {
    // Streamed rather than fetched whole: only the id pairs are kept, not a million
    // decoded rows at once.
    sqlx::query_as::<_, (i32, i32)>(sql)
        .fetch(db.pool())
        .try_collect()
        .await
}

/// Loads the demo content when both tables are empty; returns whether it did.
pub async fn seed_demo_if_empty(db: &Database) -> anyhow::Result<bool> {
    let (quizzes, actions): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM quizzes), (SELECT COUNT(*) FROM actions)")
            .fetch_one(db.pool())
            .await
            .context("cannot count the catalogue's rows")?;
    if quizzes > 0 || actions > 0 {
        return Ok(false);
    }
    let demo = CatalogFile::parse_json(DEMO_CATALOG.as_bytes())
        .map_err(|errors| anyhow::anyhow!("the built-in demo catalogue is invalid: {errors}"))?;
    demo.write(db).await.context("cannot store the demo catalogue")?;
    Ok(true)
}
