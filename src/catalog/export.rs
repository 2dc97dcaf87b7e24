//! `pairlink export`: the catalogue's rows as files that `pairlink import` reads back
//! into the same rows: every row with its id, ordered by id, streamed so that a large
//! catalogue is never held in memory.
//!
//! JSON puts one row per line, which keeps diffs between exports readable. CSV writes one
//! file per table. NULL columns (possible in a database the seed filled) are written as
//! `null` or an empty cell; import reads a missing `detail` as `""` and refuses rows that
//! lack a required value, so only such rows do not round-trip.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use futures_util::TryStreamExt;

use super::csv as catalog_csv;
use super::rows::{ActionRow, Content, QuizRow};
use crate::db::Database;

/// How many rows of each table an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub quizzes: u64,
    pub actions: u64,
}

/// Calls `write` with every row of `T`'s table as stored, by id; returns how many.
async fn each_stored<T: Content>(
    db: &Database,
    mut write: impl FnMut(&T::Stored, u64) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let sql = format!("SELECT {} FROM {} ORDER BY id", T::column_list(), T::TABLE.name());
    let mut rows = sqlx::query_as::<_, T::Stored>(&sql).fetch(db.pool());
    let mut count = 0u64;
    while let Some(row) = rows
        .try_next()
        .await
        .with_context(|| format!("cannot read the {}", T::TABLE.name()))?
    {
        write(&row, count)?;
        count += 1;
    }
    Ok(count)
}

/// Writes `{"quizzes":[…],"actions":[…]}` with one row per line.
pub async fn json(db: &Database, out: &mut impl Write) -> anyhow::Result<ExportSummary> {
    out.write_all(b"{\n")?;
    let quizzes = json_section::<QuizRow>(db, out).await?;
    out.write_all(b",\n")?;
    let actions = json_section::<ActionRow>(db, out).await?;
    out.write_all(b"\n}\n")?;
    out.flush()?;
    Ok(ExportSummary { quizzes, actions })
}

async fn json_section<T: Content>(db: &Database, out: &mut impl Write) -> anyhow::Result<u64> {
    let table = T::TABLE.name();
    write!(out, "\"{table}\": [")?;
    let count = each_stored::<T>(db, |row, index| {
        out.write_all(if index == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, row)?;
        Ok(())
    })
    .await?;
    out.write_all(b"\n]")?;
    Ok(count)
}

/// Writes `quizzes.csv` and `actions.csv` into `dir`, creating it if needed.
pub async fn csv(db: &Database, dir: &Path) -> anyhow::Result<ExportSummary> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(ExportSummary {
        quizzes: csv_table::<QuizRow>(db, dir).await?,
        actions: csv_table::<ActionRow>(db, dir).await?,
    })
}

async fn csv_table<T: Content>(db: &Database, dir: &Path) -> anyhow::Result<u64> {
    let path = dir.join(catalog_csv::file_name(T::TABLE));
    let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut writer = catalog_csv::writer::<_, T>(std::io::BufWriter::new(file))?;
    let count = each_stored::<T>(db, |row, _| Ok(writer.serialize(row)?)).await?;
    writer
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(count)
}
