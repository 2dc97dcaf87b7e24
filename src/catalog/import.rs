//! Catalogue files: `{"quizzes":[…],"actions":[…]}` in the seed's field names, checked
//! row by row and written in one transaction, so a file lands whole or not at all.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::db::{Backend, Database};

/// The longest text a column holds (`VARCHAR(255)` in the seed schema), in characters.
pub const MAX_TEXT_CHARS: usize = 255;

/// One quiz as it appears in a catalogue file. Without `id` the next free id is used;
/// with one, the row of that id is inserted or replaced.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizRow {
    pub id: Option<i32>,
    pub name: String,
    pub difficulty: i32,
    pub lef_sel: String,
    pub rig_sel: String,
    #[serde(default)]
    pub detail: String,
}

/// One action as it appears in a catalogue file: a quiz without a name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRow {
    pub id: Option<i32>,
    pub difficulty: i32,
    pub lef_sel: String,
    pub rig_sel: String,
    #[serde(default)]
    pub detail: String,
}

/// A whole catalogue file, every row valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogFile {
    pub quizzes: Vec<QuizRow>,
    pub actions: Vec<ActionRow>,
}

/// What was wrong with one row (or, with position `file`, with the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Where, as `quizzes[3]` (0-based, like the JSON array index) or `file`.
    pub position: String,
    pub reason: String,
}

/// Every problem found in a file; nothing of the file is written when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<RowError>);

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", error.position, error.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// How many rows a file wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub quizzes: usize,
    pub actions: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    quizzes: Vec<Value>,
    #[serde(default)]
    actions: Vec<Value>,
}

impl CatalogFile {
    /// Parses and checks a JSON catalogue file, collecting every invalid row.
    pub fn parse_json(bytes: &[u8]) -> Result<Self, ImportErrors> {
        let file_error = |reason: String| {
            ImportErrors(vec![RowError {
                position: "file".to_owned(),
                reason: format!("expected {{\"quizzes\":[…],\"actions\":[…]}}: {reason}"),
            }])
        };
        let value: Value = serde_json::from_slice(bytes).map_err(|err| file_error(err.to_string()))?;
        if !value.is_object() {
            return Err(file_error("the file is not a JSON object".to_owned()));
        }
        let raw: RawFile = serde_json::from_value(value).map_err(|err| file_error(err.to_string()))?;
        let mut errors = Vec::new();
        let quizzes = rows(raw.quizzes, "quizzes", &mut errors, QuizRow::check);
        let actions = rows(raw.actions, "actions", &mut errors, ActionRow::check);
        if errors.is_empty() {
            Ok(Self { quizzes, actions })
        } else {
            Err(ImportErrors(errors))
        }
    }

    /// Writes every row in one transaction: all of them, or none if any fails.
    pub async fn write(&self, db: &Database) -> Result<ImportSummary, sqlx::Error> {
        let mut tx = db.pool().begin().await?;
        for quiz in &self.quizzes {
            let query = match quiz.id {
                Some(id) => sqlx::query(
                    "INSERT INTO quizzes (id, name, difficulty, lef_sel, rig_sel, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     difficulty = excluded.difficulty, lef_sel = excluded.lef_sel, \
                     rig_sel = excluded.rig_sel, detail = excluded.detail",
                )
                .bind(id),
                // Ids are taken as MAX + 1 rather than from the backend's own counter,
                // which does not exist in the same form in SQLite and PostgreSQL.
                None => sqlx::query(
                    "INSERT INTO quizzes (id, name, difficulty, lef_sel, rig_sel, detail) \
                     SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5 FROM quizzes",
                ),
            };
            query
                .bind(&quiz.name)
                .bind(quiz.difficulty)
                .bind(&quiz.lef_sel)
                .bind(&quiz.rig_sel)
                .bind(&quiz.detail)
                .execute(&mut *tx)
                .await?;
        }
        for action in &self.actions {
            let query = match action.id {
                Some(id) => sqlx::query(
                    "INSERT INTO actions (id, difficulty, lef_sel, rig_sel, detail) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET difficulty = excluded.difficulty, \
                     lef_sel = excluded.lef_sel, rig_sel = excluded.rig_sel, \
                     detail = excluded.detail",
                )
                .bind(id),
                None => sqlx::query(
                    "INSERT INTO actions (id, difficulty, lef_sel, rig_sel, detail) \
                     SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4 FROM actions",
                ),
            };
            query
                .bind(action.difficulty)
                .bind(&action.lef_sel)
                .bind(&action.rig_sel)
                .bind(&action.detail)
                .execute(&mut *tx)
                .await?;
        }
        if db.backend() == Backend::Postgres {
            // Rows written with explicit ids leave the SERIAL sequences behind; move them
            // past the largest id so inserts that rely on the sequence (the seed's own
            // tools, psql) do not collide with imported rows.
            for table in ["quizzes", "actions"] {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(ImportSummary {
            quizzes: self.quizzes.len(),
            actions: self.actions.len(),
        })
    }
}

/// Decodes and checks each row of one section, recording errors by position, and
/// refuses an id given twice in the same section.
fn rows<T: DeserializeOwned + HasId>(
    values: Vec<Value>,
    section: &str,
    errors: &mut Vec<RowError>,
    check: fn(&T) -> Result<(), String>,
) -> Vec<T> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let position = format!("{section}[{index}]");
        let row = match serde_json::from_value::<T>(value) {
            Ok(row) => row,
            Err(err) => {
                errors.push(RowError {
                    position,
                    reason: err.to_string(),
                });
                continue;
            }
        };
        if let Err(reason) = check(&row) {
            errors.push(RowError { position, reason });
            continue;
        }
        if let Some(id) = row.id() {
            if !seen.insert(id) {
                errors.push(RowError {
                    position,
                    reason: format!("id {id} appears more than once in {section}"),
                });
                continue;
            }
        }
        out.push(row);
    }
    out
}

trait HasId {
    fn id(&self) -> Option<i32>;
}

impl HasId for QuizRow {
    fn id(&self) -> Option<i32> {
        self.id
    }
}

impl HasId for ActionRow {
    fn id(&self) -> Option<i32> {
        self.id
    }
}

impl QuizRow {
    pub fn check(&self) -> Result<(), String> {
        check_common(self.id, self.difficulty)?;
        check_text("name", &self.name, true)?;
        check_text("lef_sel", &self.lef_sel, true)?;
        check_text("rig_sel", &self.rig_sel, true)?;
        check_text("detail", &self.detail, false)
    }
}

impl ActionRow {
    pub fn check(&self) -> Result<(), String> {
        check_common(self.id, self.difficulty)?;
        check_text("lef_sel", &self.lef_sel, true)?;
        check_text("rig_sel", &self.rig_sel, true)?;
        check_text("detail", &self.detail, false)
    }
}

fn check_common(id: Option<i32>, difficulty: i32) -> Result<(), String> {
    if let Some(id) = id {
        if id < 1 {
            return Err(format!("id must be 1 or more, got {id}"));
        }
    }
    if difficulty < 0 {
        return Err(format!("difficulty must be 0 or more, got {difficulty}"));
    }
    Ok(())
}

fn check_text(field: &str, value: &str, required: bool) -> Result<(), String> {
    if required && value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    let chars = value.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(format!(
            "{field} is {chars} characters long; at most {MAX_TEXT_CHARS} fit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_valid_file_with_and_without_ids() {
        let file = CatalogFile::parse_json(
            br#"{"quizzes":[{"id":7,"name":"Capital","difficulty":1,"lef_sel":"Paris","rig_sel":"Rome","detail":"France"},
                            {"name":"Sum","difficulty":2,"lef_sel":"3","rig_sel":"4"}],
                 "actions":[{"difficulty":1,"lef_sel":"jump","rig_sel":"duck","detail":""}]}"#,
        )
        .unwrap();
        assert_eq!(file.quizzes.len(), 2);
        assert_eq!(file.quizzes[0].id, Some(7));
        assert_eq!(file.quizzes[1].id, None);
        assert_eq!(file.quizzes[1].detail, "");
        assert_eq!(file.actions[0].lef_sel, "jump");
    }

    #[test]
    fn names_every_invalid_row_by_position() {
        let long = "x".repeat(256);
        let json = format!(
            r#"{{"quizzes":[{{"name":"ok","difficulty":1,"lef_sel":"a","rig_sel":"b"}},
                            {{"difficulty":1,"lef_sel":"a","rig_sel":"b"}},
                            {{"name":"{long}","difficulty":1,"lef_sel":"a","rig_sel":"b"}},
                            {{"id":3,"name":"n","difficulty":1,"lef_sel":"a","rig_sel":"b"}},
                            {{"id":3,"name":"n","difficulty":1,"lef_sel":"a","rig_sel":"b"}}],
                 "actions":[{{"difficulty":"hard","lef_sel":"a","rig_sel":"b"}},
                            {{"id":0,"difficulty":1,"lef_sel":"a","rig_sel":"b"}},
                            {{"difficulty":1,"lef_sel":" ","rig_sel":"b"}},
                            {{"difficulty":1,"lef_sel":"a","rig_sel":"b","colour":"red"}}]}}"#
        );
        let errors = CatalogFile::parse_json(json.as_bytes()).unwrap_err().0;
        let positions: Vec<_> = errors.iter().map(|e| e.position.as_str()).collect();
        assert_eq!(
            positions,
            [
                "quizzes[1]",
                "quizzes[2]",
                "quizzes[4]",
                "actions[0]",
                "actions[1]",
                "actions[2]",
                "actions[3]"
            ]
        );
        assert!(errors[0].reason.contains("missing field `name`"), "{:?}", errors[0]);
        assert!(errors[1].reason.contains("256 characters"), "{:?}", errors[1]);
        assert!(errors[2].reason.contains("more than once"), "{:?}", errors[2]);
        assert!(errors[3].reason.contains("invalid type"), "{:?}", errors[3]);
        assert!(errors[4].reason.contains("1 or more"), "{:?}", errors[4]);
        assert!(
            errors[5].reason.contains("lef_sel must not be empty"),
            "{:?}",
            errors[5]
        );
        assert!(errors[6].reason.contains("unknown field `colour`"), "{:?}", errors[6]);
    }

    #[test]
    fn refuses_a_file_that_is_not_a_catalogue() {
        for bad in [&b"not json"[..], b"[]", br#"{"quizes":[]}"#, br#"{"quizzes":{}}"#] {
            let errors = CatalogFile::parse_json(bad).unwrap_err().0;
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].position, "file");
        }
    }

    #[test]
    fn the_demo_catalogue_is_valid_and_covers_difficulties_one_to_five() {
        let demo = CatalogFile::parse_json(include_bytes!("../../demo/catalog.json")).unwrap();
        for difficulty in 1..=5 {
            let quizzes = demo.quizzes.iter().filter(|q| q.difficulty == difficulty).count();
            let actions = demo.actions.iter().filter(|a| a.difficulty == difficulty).count();
            assert!(
                quizzes >= 3 && actions >= 1,
                "difficulty {difficulty}: {quizzes} quizzes, {actions} actions"
            );
        }
    }
}
