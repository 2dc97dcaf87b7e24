//! Catalogue files: `{"quizzes":[…],"actions":[…]}` in JSON, or one table per CSV file,
//! in the seed's field names; checked row by row (the rules are in [`super::rows`]) and
//! written in one transaction, so a set of files lands whole or not at all.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use super::rows::{self, ActionRow, Content, QuizRow};
use super::store;
use crate::db::Database;

/// How a catalogue file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"quizzes":[…],"actions":[…]}`.
    Json,
    /// One table per file; its header row names the columns (and so the table).
    Csv,
}

impl Format {
    /// The format a file name's extension names, if any.
    pub fn of_path(path: &Path) -> Option<Self> {
        path.extension()?.to_str()?.to_ascii_lowercase().parse().ok()
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            other => Err(format!("'{other}' is not a catalogue format; use json or csv")),
        }
    }
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
        let quizzes = rows(raw.quizzes, &mut errors);
        let actions = rows(raw.actions, &mut errors);
        if errors.is_empty() {
            Ok(Self { quizzes, actions })
        } else {
            Err(ImportErrors(errors))
        }
    }

    /// Parses a file in `format`.
    pub fn parse(bytes: &[u8], format: Format) -> Result<Self, ImportErrors> {
        match format {
            Format::Json => Self::parse_json(bytes),
            Format::Csv => super::csv::parse(bytes),
        }
    }

    /// Adds another file's rows; an id that both give for the same table is an error.
    pub fn extend(&mut self, other: CatalogFile) -> Result<(), ImportErrors> {
        let mut errors = Vec::new();
        clashes(&self.quizzes, &other.quizzes, &mut errors);
        clashes(&self.actions, &other.actions, &mut errors);
        if !errors.is_empty() {
            return Err(ImportErrors(errors));
        }
        self.quizzes.extend(other.quizzes);
        self.actions.extend(other.actions);
        Ok(())
    }

    /// Writes every row in one transaction: all of them, or none if any fails.
    pub async fn write(&self, db: &Database) -> anyhow::Result<ImportSummary> {
        let mut tx = db.pool().begin().await?;
        for quiz in &self.quizzes {
            store::upsert(&mut tx, quiz).await?.context(NO_FREE_ID)?;
        }
        for action in &self.actions {
            store::upsert(&mut tx, action).await?.context(NO_FREE_ID)?;
        }
        store::resync_ids::<QuizRow>(&mut tx, db.backend()).await?;
        store::resync_ids::<ActionRow>(&mut tx, db.backend()).await?;
        tx.commit().await?;
        Ok(ImportSummary {
            quizzes: self.quizzes.len(),
            actions: self.actions.len(),
        })
    }
}

const NO_FREE_ID: &str = "a row without an id cannot be numbered: the largest id, 2147483647, is taken";

fn clashes<T: Content>(have: &[T], more: &[T], errors: &mut Vec<RowError>) {
    let ids: HashSet<i32> = have.iter().filter_map(Content::id).collect();
    for id in more.iter().filter_map(Content::id).filter(|id| ids.contains(id)) {
        errors.push(RowError {
            position: T::TABLE.name().to_owned(),
            reason: format!("id {id} is given by more than one file"),
        });
    }
}

/// Decodes and checks each row of one section, recording errors by position, and
/// refuses an id given twice in the same section.
fn rows<T: Content>(values: Vec<Value>, errors: &mut Vec<RowError>) -> Vec<T> {
    let mut checked = UniqueIds::default();
    let mut out = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let position = format!("{}[{index}]", T::TABLE.name());
        if let Some(row) = checked.row(rows::decode::<T>(value), position, errors) {
            out.push(row);
        }
    }
    out
}

/// The ids a section has given so far, to refuse one given twice.
#[derive(Default)]
pub(super) struct UniqueIds(HashSet<i32>);

impl UniqueIds {
    /// The row if it decoded and its id is new; otherwise records why not at `position`.
    pub(super) fn row<T: Content>(
        &mut self,
        decoded: Result<T, Vec<rows::FieldError>>,
        position: String,
        errors: &mut Vec<RowError>,
    ) -> Option<T> {
        let row = match decoded {
            Ok(row) => row,
            Err(problems) => {
                let reason = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                errors.push(RowError { position, reason });
                return None;
            }
        };
        if let Some(id) = row.id() {
            if !self.0.insert(id) {
                errors.push(RowError {
                    position,
                    reason: format!("id {id} appears more than once in {}", T::TABLE.name()),
                });
                return None;
            }
        }
        Some(row)
    }
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
        assert!(errors[0].reason.contains("name is required"), "{:?}", errors[0]);
        assert!(errors[1].reason.contains("256 characters"), "{:?}", errors[1]);
        assert!(errors[2].reason.contains("more than once"), "{:?}", errors[2]);
        assert!(
            errors[3].reason.contains("difficulty must be an integer"),
            "{:?}",
            errors[3]
        );
        assert!(errors[4].reason.contains("1 or more"), "{:?}", errors[4]);
        assert!(
            errors[5].reason.contains("lef_sel must not be empty"),
            "{:?}",
            errors[5]
        );
        assert!(
            errors[6].reason.contains("colour is not a field of an action"),
            "{:?}",
            errors[6]
        );
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
