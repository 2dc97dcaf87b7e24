//! Catalogue tables as CSV: one table per file, a header row with the seed's field names.
//!
//! The header tells the table: a `name` column makes it the quizzes, otherwise it is the
//! actions. Columns may come in any order; `id` and `detail` may be left out. An empty
//! cell is an absent value: no id (the next free one is used), no difficulty (an error),
//! an empty text. Errors name the file's line (1-based, the header is line 1).

use serde_json::{Map, Number, Value};

use super::Table;
use super::import::{CatalogFile, ImportErrors, RowError, UniqueIds};
use super::rows::{self, ActionRow, Content, QuizRow};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses one CSV file into the section its header names.
pub fn parse(bytes: &[u8]) -> Result<CatalogFile, ImportErrors> {
    // Spreadsheet programs often start the file with a byte order mark.
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = match reader.headers() {
        Ok(headers) => headers.iter().map(str::to_owned).collect::<Vec<_>>(),
        Err(err) => return Err(file_error(format!("cannot read the header row: {err}"))),
    };
    let mut file = CatalogFile::default();
    if headers.iter().any(|h| h == "name") {
        file.quizzes = section::<QuizRow>(reader, &headers)?;
    } else {
        file.actions = section::<ActionRow>(reader, &headers)?;
    }
    Ok(file)
}

fn file_error(reason: String) -> ImportErrors {
    ImportErrors(vec![RowError {
        position: "file".to_owned(),
        reason,
    }])
}

/// Checks the header once, then decodes every record, collecting every invalid row.
fn section<T: Content>(mut reader: csv::Reader<&[u8]>, headers: &[String]) -> Result<Vec<T>, ImportErrors> {
    check_header::<T>(headers).map_err(file_error)?;
    let mut errors = Vec::new();
    let mut ids = UniqueIds::default();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, csv::Position::line);
                let reason = match err.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("has {len} fields where the header has {expected_len}")
                    }
                    _ => err.to_string(),
                };
                errors.push(RowError {
                    position: format!("line {line}"),
                    reason,
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let mut fields = Map::new();
        for (header, cell) in headers.iter().zip(record.iter()) {
            let column = T::COLUMNS.iter().find(|c| c.name == header).expect("checked header");
            fields.insert(header.clone(), cell_value(column.is_integer(), cell));
        }
        if let Some(row) = ids.row(
            rows::decode::<T>(Value::Object(fields)),
            format!("line {line}"),
            &mut errors,
        ) {
            rows.push(row);
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(ImportErrors(errors))
    }
}

fn check_header<T: Content>(headers: &[String]) -> Result<(), String> {
    let table = T::TABLE.name();
    let columns = T::column_list();
    for (i, header) in headers.iter().enumerate() {
        if !T::COLUMNS.iter().any(|c| c.name == header) {
            return Err(format!(
                "the header names a column '{header}' that {table} do not have (columns: {columns})"
            ));
        }
        if headers[..i].contains(header) {
            return Err(format!("the header names the column '{header}' twice"));
        }
    }
    match T::COLUMNS
        .iter()
        .find(|c| c.required() && !headers.iter().any(|h| h == c.name))
    {
        Some(missing) => Err(format!(
            "the header lacks the column '{}' that {table} need",
            missing.name
        )),
        None => Ok(()),
    }
}

/// A cell as the JSON value the row rules check: integers as numbers when they parse
/// (otherwise as the text, which the rules then refuse), an empty integer cell as absent.
fn cell_value(integer: bool, cell: &str) -> Value {
    if !integer {
        return Value::String(cell.to_owned());
    }
    if cell.is_empty() {
        return Value::Null;
    }
    match cell.parse::<i64>() {
        Ok(n) => Value::Number(Number::from(n)),
        Err(_) => Value::String(cell.to_owned()),
    }
}

/// A CSV writer for one table; the header row is written at once, so that an empty
/// table still yields a file that names its table.
pub fn writer<W: std::io::Write, T: Content>(out: W) -> csv::Result<csv::Writer<W>> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    writer.write_record(T::COLUMNS.iter().map(|c| c.name))?;
    Ok(writer)
}

/// The file name an export gives a table.
pub fn file_name(table: Table) -> String {
    format!("{}.csv", table.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(csv: &str) -> Vec<String> {
        parse(csv.as_bytes())
            .unwrap_err()
            .0
            .iter()
            .map(|e| format!("{}: {}", e.position, e.reason))
            .collect()
    }

    #[test]
    fn the_header_tells_the_table() {
        let quizzes = parse(b"\xEF\xBB\xBFname,difficulty,lef_sel,rig_sel\nSum,2,3,4\n").unwrap();
        assert_eq!(quizzes.quizzes.len(), 1);
        assert_eq!(quizzes.quizzes[0].id, None);
        assert!(quizzes.actions.is_empty());
        let actions = parse(b"id,difficulty,lef_sel,rig_sel,detail\n3,1,\"a, b\",\"say \"\"hi\"\"\",\n").unwrap();
        assert_eq!(actions.actions[0].lef_sel, "a, b");
        assert_eq!(actions.actions[0].rig_sel, "say \"hi\"");
        assert_eq!(actions.actions[0].detail, "");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            errors("id,difficulty,lef_sel,rig_sel\n1,1,a,b\nx,1,a,b\n2,,a,\"multi\nline\"\n3,1, ,b\n1,1,a,b\n4,1\n"),
            [
                "line 3: id must be an integer, got \"x\"",
                "line 4: difficulty is required",
                "line 6: lef_sel must not be empty",
                "line 7: id 1 appears more than once in actions",
                "line 8: has 2 fields where the header has 4",
            ]
        );
    }

    #[test]
    fn a_bad_header_is_one_error() {
        assert_eq!(
            errors("name,difficulty,lef_sel,rig_sel,colour\n"),
            [
                "file: the header names a column 'colour' that quizzes do not have (columns: id, name, difficulty, lef_sel, rig_sel, detail)"
            ]
        );
        assert_eq!(
            errors("difficulty,lef_sel\n"),
            ["file: the header lacks the column 'rig_sel' that actions need"]
        );
        assert_eq!(
            errors("difficulty,lef_sel,rig_sel,lef_sel\n"),
            ["file: the header names the column 'lef_sel' twice"]
        );
    }
}
