//! The catalogue's rows and the rules they obey, in one place for every way content
//! arrives: the content API's request bodies, JSON catalogue files and CSV files.
//!
//! A row is decoded from a JSON object by [`decode`], which checks every field against
//! its [`Column`] and reports all problems at once, by field name. Each rule exists
//! once, in [`Column::check`]; the OpenAPI schema derived from [`QuizRow`] and
//! [`ActionRow`] states the same rules for clients (a unit test keeps them in step).
//!
//! Rows as stored ([`Quiz`], [`Action`]) are a separate type because the seed schema lets
//! every column be NULL: a database the seed's tools filled may hold rows these rules
//! would refuse, and reading them must still work. NULL is shown as `null`.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::{Any, AnyArguments, AnyRow};
use sqlx::query::Query;
use utoipa::ToSchema;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};

use super::Table;

/// The longest text a column holds (`VARCHAR(255)` in the seed schema), in characters.
pub const MAX_TEXT_CHARS: usize = 255;

/// What a column may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `id`: optional on the way in (the next free id is used); 1 or more.
    Id,
    /// `difficulty`: required, 0 or more.
    Difficulty,
    /// Required text that is not blank (`name`, `lef_sel`, `rig_sel`).
    Text,
    /// Optional text, `""` when left out or null (`detail`).
    OptionalText,
}

/// One column of a table, in the seed's field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
}

impl Column {
    const fn new(name: &'static str, kind: ColumnKind) -> Self {
        Self { name, kind }
    }

    /// Whether a row needs a value here.
    pub fn required(self) -> bool {
        matches!(self.kind, ColumnKind::Difficulty | ColumnKind::Text)
    }

    pub fn is_integer(self) -> bool {
        matches!(self.kind, ColumnKind::Id | ColumnKind::Difficulty)
    }

    /// Checks a present, non-null value; the problem is phrased to follow the field name.
    pub fn check(self, value: &Value) -> Result<(), String> {
        if self.is_integer() {
            let min = if self.kind == ColumnKind::Id { 1 } else { 0 };
            return match integer(value) {
                Some(n) if n < min => Err(format!("must be {min} or more, got {n}")),
                Some(n) if n > i64::from(i32::MAX) => Err(format!("must be at most {}, got {n}", i32::MAX)),
                Some(_) => Ok(()),
                None => Err(format!("must be an integer, got {value}")),
            };
        }
        let Some(text) = value.as_str() else {
            return Err(format!("must be a string, got {value}"));
        };
        if self.kind == ColumnKind::Text && is_blank(text) {
            return Err("must not be empty".to_owned());
        }
        if text.contains('\0') {
            // PostgreSQL cannot store it; refused on SQLite too so both behave alike.
            return Err("must not contain the NUL character".to_owned());
        }
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(format!("is {chars} characters long; at most {MAX_TEXT_CHARS} fit"));
        }
        Ok(())
    }
}

/// An integer, also when written with a zero fraction (`3.0`): JSON does not tell the two
/// apart, nor do JSON Schema's `integer` and the clients that follow it.
fn integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| integral(value.as_f64()?))
}

/// `float` as an integer if it has no fraction and fits an `i64`.
pub fn integral(float: f64) -> Option<i64> {
    // The bounds are exact in f64; beyond them the value is out of range anyway.
    let in_range = (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&float);
    (float.fract() == 0.0 && in_range).then_some(float as i64)
}

/// An integer written as text, `3.0` included (see [`integer`]): query and path values.
pub fn parse_integer(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().or_else(|| integral(text.parse::<f64>().ok()?))
}

/// Blank means nothing but whitespace as Rust (and Unicode's White_Space) defines it;
/// the schemas' `pattern` lists the same characters.
fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// One problem with one field of a row (`field` is empty for the row as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{} {}", self.field, self.problem)
        }
    }
}

/// What the two tables have in common, so that one code path serves both: decoding,
/// the SQL of the content API, import and export.
pub trait Content: Serialize + DeserializeOwned + ToSchema + Send + Sync + Unpin + 'static {
    /// The row as stored, NULLs and all.
    type Stored: Serialize + ToSchema + for<'r> sqlx::FromRow<'r, AnyRow> + Send + Sync + Unpin + 'static;

    const TABLE: Table;

    /// Every column in the seed's order, `id` first.
    const COLUMNS: &'static [Column];

    fn id(&self) -> Option<i32>;

    fn difficulty(&self) -> i32;

    /// Binds every column but `id`, in [`Self::COLUMNS`] order.
    fn bind_fields<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>>;

    /// `id, name, …`: the column list for SQL and for CSV headers.
    fn column_list() -> String {
        Self::COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
    }
}

/// Decodes one row from a JSON value, reporting every problem by field.
pub fn decode<T: Content>(value: Value) -> Result<T, Vec<FieldError>> {
    let noun = T::TABLE.with_article();
    let Value::Object(mut fields) = value else {
        return Err(vec![FieldError::new(
            "",
            format!("expected a JSON object ({noun}), got {value}"),
        )]);
    };
    let mut errors: Vec<FieldError> = fields
        .keys()
        .filter(|key| !T::COLUMNS.iter().any(|c| c.name == key.as_str()))
        .map(|key| FieldError::new(key.as_str(), format!("is not a field of {noun}")))
        .collect();
    for column in T::COLUMNS {
        match fields.get(column.name) {
            None | Some(Value::Null) => {
                fields.remove(column.name);
                if column.required() {
                    errors.push(FieldError::new(column.name, "is required"));
                }
            }
            Some(value) => match column.check(value) {
                Err(problem) => errors.push(FieldError::new(column.name, problem)),
                Ok(()) => {
                    if let Some(n) = integer(value).filter(|_| column.is_integer()) {
                        fields.insert(column.name.to_owned(), Value::from(n));
                    }
                }
            },
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    serde_json::from_value(Value::Object(fields)).map_err(|err| vec![FieldError::new("", err.to_string())])
}

/// The schemas of the columns, stating [`Column::check`]'s rules for clients.
fn id_schema() -> Object {
    integer_schema(1)
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .build()
}

fn difficulty_schema() -> Object {
    integer_schema(0).build()
}

fn integer_schema(minimum: isize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(minimum))
        .maximum(Some(i32::MAX as isize))
}

/// The characters [`is_blank`] skips, as a JSON Schema pattern that a text matches when
/// it has at least one other character.
const NOT_BLANK_PATTERN: &str = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

fn required_text() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_TEXT_CHARS))
        .pattern(Some(NOT_BLANK_PATTERN))
        .build()
}

fn optional_text() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(MAX_TEXT_CHARS))
        .description(Some("Optional; \"\" when left out or null."))
        .build()
}

/// The [`Content`] impl of a row type: its stored type, table, columns, and the fields
/// bound in column order after `id`.
macro_rules! impl_content {
    ($row:ty, $stored:ty, $table:expr, $columns:expr, [$($field:ident),+]) => {
        impl Content for $row {
            type Stored = $stored;
            const TABLE: Table = $table;
            const COLUMNS: &'static [Column] = $columns;

            fn id(&self) -> Option<i32> {
                self.id
            }

            fn difficulty(&self) -> i32 {
                self.difficulty
            }

            fn bind_fields<'q>(
                &'q self,
                query: Query<'q, Any, AnyArguments<'q>>,
            ) -> Query<'q, Any, AnyArguments<'q>> {
                query$(.bind(&self.$field))+
            }
        }
    };
}

const QUIZ_COLUMNS: &[Column] = &[
    Column::new("id", ColumnKind::Id),
    Column::new("name", ColumnKind::Text),
    Column::new("difficulty", ColumnKind::Difficulty),
    Column::new("lef_sel", ColumnKind::Text),
    Column::new("rig_sel", ColumnKind::Text),
    Column::new("detail", ColumnKind::OptionalText),
];

/// A quiz as a client or a file gives it. Without `id` the next free id is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizRow {
    #[schema(schema_with = id_schema)]
    pub id: Option<i32>,
    /// The question.
    #[schema(schema_with = required_text)]
    pub name: String,
    #[schema(schema_with = difficulty_schema)]
    pub difficulty: i32,
    /// The left answer.
    #[schema(schema_with = required_text)]
    pub lef_sel: String,
    /// The right answer.
    #[schema(schema_with = required_text)]
    pub rig_sel: String,
    #[serde(default)]
    #[schema(schema_with = optional_text)]
    pub detail: String,
}

impl_content!(
    QuizRow,
    Quiz,
    Table::Quizzes,
    QUIZ_COLUMNS,
    [name, difficulty, lef_sel, rig_sel, detail]
);

/// A quiz as stored. Every column but `id` may be NULL in a database the seed filled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Quiz {
    pub id: i32,
    pub name: Option<String>,
    pub difficulty: Option<i32>,
    pub lef_sel: Option<String>,
    pub rig_sel: Option<String>,
    pub detail: Option<String>,
}

const ACTION_COLUMNS: &[Column] = &[
    Column::new("id", ColumnKind::Id),
    Column::new("difficulty", ColumnKind::Difficulty),
    Column::new("lef_sel", ColumnKind::Text),
    Column::new("rig_sel", ColumnKind::Text),
    Column::new("detail", ColumnKind::OptionalText),
];

/// An action as a client or a file gives it: a quiz without a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRow {
    #[schema(schema_with = id_schema)]
    pub id: Option<i32>,
    #[schema(schema_with = difficulty_schema)]
    pub difficulty: i32,
    #[schema(schema_with = required_text)]
    pub lef_sel: String,
    #[schema(schema_with = required_text)]
    pub rig_sel: String,
    #[serde(default)]
    #[schema(schema_with = optional_text)]
    pub detail: String,
}

impl_content!(
    ActionRow,
    Action,
    Table::Actions,
    ACTION_COLUMNS,
    [difficulty, lef_sel, rig_sel, detail]
);

/// An action as stored (see [`Quiz`] for NULLs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Action {
    pub id: i32,
    pub difficulty: Option<i32>,
    pub lef_sel: Option<String>,
    pub rig_sel: Option<String>,
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use utoipa::PartialSchema;

    use super::*;

    fn problems<T: Content + fmt::Debug>(value: Value) -> Vec<String> {
        decode::<T>(value)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn decodes_a_valid_row_with_defaults() {
        let quiz: QuizRow =
            decode(json!({"name":"Sum","difficulty":2,"lef_sel":"3","rig_sel":"4","detail":null})).unwrap();
        assert_eq!((quiz.id, quiz.detail.as_str()), (None, ""));
        let action: ActionRow = decode(json!({"id":4.0,"difficulty":0,"lef_sel":"a","rig_sel":"b"})).unwrap();
        assert_eq!(action.id, Some(4));
    }

    #[test]
    fn reports_every_problem_by_field() {
        let long = "x".repeat(256);
        let found = problems::<QuizRow>(json!({
            "id": 0, "difficulty": "hard", "lef_sel": " \t", "rig_sel": long, "detail": 5, "colour": "red"
        }));
        assert_eq!(
            found,
            [
                "colour is not a field of a quiz",
                "id must be 1 or more, got 0",
                "name is required",
                "difficulty must be an integer, got \"hard\"",
                "lef_sel must not be empty",
                "rig_sel is 256 characters long; at most 255 fit",
                "detail must be a string, got 5",
            ]
        );
        assert_eq!(
            problems::<ActionRow>(json!({"difficulty": -1, "lef_sel": "a\u{0}", "rig_sel": "b", "name": "x"})),
            [
                "name is not a field of an action",
                "difficulty must be 0 or more, got -1",
                "lef_sel must not contain the NUL character",
            ]
        );
        assert_eq!(
            problems::<ActionRow>(json!({"difficulty": 2147483648_i64, "id": 1.5, "lef_sel": "a", "rig_sel": "b"})),
            [
                "id must be an integer, got 1.5",
                "difficulty must be at most 2147483647, got 2147483648"
            ]
        );
        assert_eq!(
            problems::<ActionRow>(json!([1])),
            ["expected a JSON object (an action), got [1]"]
        );
    }

    #[test]
    fn the_schema_states_the_same_rules() {
        let schema = serde_json::to_value(QuizRow::schema()).unwrap();
        let name = &schema["properties"]["name"];
        let expected: String = (0..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .map(|c| match c {
                '\t' => "\\t".to_owned(),
                '\n' => "\\n".to_owned(),
                '\u{c}' => "\\f".to_owned(),
                '\r' => "\\r".to_owned(),
                ' ' => " ".to_owned(),
                c => format!("\\u{:04x}", u32::from(c)),
            })
            .collect::<String>()
            .replace("\\u2001\\u2002\\u2003\\u2004\\u2005\\u2006\\u2007\\u2008\\u2009", "-");
        assert_eq!(name["pattern"], format!("[^{expected}]"));
        assert_eq!(name["maxLength"], MAX_TEXT_CHARS);
        assert_eq!(schema["properties"]["difficulty"]["minimum"], 0);
        assert_eq!(schema["properties"]["id"]["minimum"], 1);
        assert_eq!(schema["additionalProperties"], false);
        let required: Vec<&str> = QUIZ_COLUMNS.iter().filter(|c| c.required()).map(|c| c.name).collect();
        assert_eq!(schema["required"], json!(required));
        let action = serde_json::to_value(ActionRow::schema()).unwrap();
        for field in ["lef_sel", "rig_sel"] {
            assert_eq!(schema["properties"][field]["pattern"], name["pattern"]);
            assert_eq!(action["properties"][field]["pattern"], name["pattern"]);
        }
    }
}
