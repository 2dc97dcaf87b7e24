//! The catalogue's rows in the database: reading them into the in-memory [`Catalog`],
//! first-run demo content, and the writes that imports and the content API share.
//!
//! Placeholders are `$1, $2, …` in the order they appear: SQLite reads `$N` as a named
//! parameter numbered by first appearance, so an out-of-order `$N` would bind wrongly.

use anyhow::Context;
use futures_util::TryStreamExt;
use sqlx::{AnyConnection, Row};

use super::Catalog;
use super::import::CatalogFile;
use super::rows::Content;
use crate::db::{Backend, Database};

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

/// `$1, $2, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Inserts `row` with its id, or replaces the row of that id (imports). `None`: the row
/// has no id and no id is left above the largest one.
pub async fn upsert<T: Content>(conn: &mut AnyConnection, row: &T) -> Result<Option<i32>, sqlx::Error> {
    let Some(id) = row.id() else {
        return insert(conn, row).await;
    };
    let updates: Vec<String> = T::COLUMNS[1..]
        .iter()
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        T::TABLE.name(),
        T::column_list(),
        placeholders(T::COLUMNS.len()),
        updates.join(", ")
    );
    row.bind_fields(sqlx::query(&sql).bind(id)).execute(conn).await?;
    Ok(Some(id))
}

/// Inserts `row` and returns its id: the one it gives, or else the one above the
/// largest (`None` when that is `i32::MAX`: nothing is inserted). A given id that
/// exists fails with a unique violation.
pub async fn insert<T: Content>(conn: &mut AnyConnection, row: &T) -> Result<Option<i32>, sqlx::Error> {
    let table = T::TABLE.name();
    if let Some(id) = row.id() {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            T::column_list(),
            placeholders(T::COLUMNS.len())
        );
        row.bind_fields(sqlx::query(&sql).bind(id)).execute(conn).await?;
        return Ok(Some(id));
    }
    // Ids are taken as MAX + 1 rather than from the backend's own counter, which does
    // not exist in the same form in SQLite and PostgreSQL. MAX sits alone in its
    // subquery so that both read it from the primary key's index (SQLite scans the whole
    // table for an aggregate in any other shape); the WHERE keeps the + 1 from
    // overflowing PostgreSQL's int4.
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT last.id + 1, {} \
         FROM (SELECT COALESCE((SELECT MAX(id) FROM {table}), 0) AS id) AS last \
         WHERE last.id < {} RETURNING id",
        T::column_list(),
        placeholders(T::COLUMNS.len() - 1),
        i32::MAX
    );
    let inserted = row.bind_fields(sqlx::query(&sql)).fetch_optional(conn).await?;
    inserted.map(|row| row.try_get(0)).transpose()
}

/// Moves PostgreSQL's id sequence past the largest id. Rows written with explicit or
/// MAX + 1 ids leave the SERIAL sequence behind; without this, inserts that rely on it
/// (the seed's own tools, psql) would collide with them.
pub async fn resync_ids<T: Content>(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        let table = T::TABLE.name();
        // `MAX(id), true` rather than `MAX(id) + 1, false`: the sequence is an int4, and
        // MAX(id) + 1 does not fit when the largest id is 2147483647.
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) \
             FROM {table}"
        ))
        .execute(conn)
        .await?;
    }
    Ok(())
}
