//! `pairlink export` and `pairlink import` with JSON and CSV: what one writes, the other
//! reads back into the same rows, byte for byte on the next export.

use std::path::Path;

use pairlink::db::Backend;

use crate::cli::pairlink;
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    export_then_import_round_trips_exactly_in_json_and_csv,
    csv_files_import_together_in_one_transaction,
);

/// Texts a naive CSV or JSON writer gets wrong.
const TRICKY: &str = r#"{
  "quizzes": [
    {"id": 3, "name": "Comma, \"quote\" and\nnewline", "difficulty": 0, "lef_sel": " padded ", "rig_sel": "ünï €😀", "detail": ""},
    {"id": 1, "name": "Tab\there", "difficulty": 2147483647, "lef_sel": "a", "rig_sel": "b", "detail": "\\back\\slash"},
    {"id": 7, "name": "CRLF\r\nend", "difficulty": 5, "lef_sel": "l", "rig_sel": "r"}
  ],
  "actions": [
    {"id": 2, "difficulty": 1, "lef_sel": "Step left", "rig_sel": "Step right", "detail": "Move, then \"stop\""},
    {"id": 9, "difficulty": 1, "lef_sel": "=SUM(A1)", "rig_sel": "-1", "detail": ""}
  ]
}"#;

fn run(dir: &Path, args: &[&str]) -> String {
    let out = pairlink(dir, args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

async fn export_then_import_round_trips_exactly_in_json_and_csv(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |name: &str| d.join(name).to_str().unwrap().to_owned();
    std::fs::write(d.join("tricky.json"), TRICKY).unwrap();
    let first = TestDatabase::create(backend).await;
    let first_url = first.url.to_string();
    run(d, &["import", &path("tricky.json"), "--database-url", &first_url]);

    // JSON to standard output, and into a fresh database and out again.
    let exported = run(d, &["export", "--database-url", &first_url]);
    assert!(exported.starts_with("{\n\"quizzes\": [\n{\"id\":1,"), "{exported}");
    std::fs::write(d.join("export.json"), &exported).unwrap();
    let second = TestDatabase::create(backend).await;
    let second_url = second.url.to_string();
    run(d, &["import", &path("export.json"), "--database-url", &second_url]);
    let again = run(d, &["export", "--format", "json", "--database-url", &second_url]);
    assert_eq!(again, exported);

    // CSV: two files, into a third database and out again; and that database's JSON
    // export matches the first, so CSV lost nothing either.
    let said = run(
        d,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            &path("csv1"),
            "--database-url",
            &first_url,
        ],
    );
    assert!(said.contains("exported 3 quizzes and 2 actions"), "{said}");
    let third = TestDatabase::create(backend).await;
    let third_url = third.url.to_string();
    let quizzes_csv = path("csv1/quizzes.csv");
    let actions_csv = path("csv1/actions.csv");
    run(d, &["import", &quizzes_csv, &actions_csv, "--database-url", &third_url]);
    run(
        d,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            &path("csv2"),
            "--database-url",
            &third_url,
        ],
    );
    for file in ["quizzes.csv", "actions.csv"] {
        let one = std::fs::read(d.join("csv1").join(file)).unwrap();
        let two = std::fs::read(d.join("csv2").join(file)).unwrap();
        assert_eq!(String::from_utf8_lossy(&one), String::from_utf8_lossy(&two), "{file}");
    }
    let header = std::fs::read_to_string(d.join("csv1/actions.csv")).unwrap();
    assert!(header.starts_with("id,difficulty,lef_sel,rig_sel,detail\n"), "{header}");
    run(
        d,
        &["export", "--out", &path("third.json"), "--database-url", &third_url],
    );
    assert_eq!(std::fs::read_to_string(d.join("third.json")).unwrap(), exported);
}

async fn csv_files_import_together_in_one_transaction(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let database = TestDatabase::create(backend).await;
    let url = database.url.to_string();
    std::fs::write(
        d.join("q.csv"),
        "name,difficulty,lef_sel,rig_sel\nOne,1,a,b\nTwo,1,a,b\n",
    )
    .unwrap();
    std::fs::write(d.join("bad.csv"), "difficulty,lef_sel,rig_sel\n1,a,b\nx,a,b\n2,,b\n").unwrap();
    let out = pairlink(d, &["import", "q.csv", "bad.csv", "--database-url", &url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "bad.csv was not imported, nothing was written: line 3: difficulty must be an integer, got \"x\"; \
             line 4: lef_sel must not be empty"
        ),
        "{stderr}"
    );
    let db = database.connect().await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quizzes")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 0, "the valid file was not written either");

    std::fs::write(d.join("a.csv"), "id,difficulty,lef_sel,rig_sel,detail\n5,1,a,b,\n").unwrap();
    std::fs::write(d.join("a2.txt"), "difficulty,lef_sel,rig_sel\n1,c,d\n").unwrap();
    let said = run(d, &["import", "q.csv", "a.csv", "--database-url", &url]);
    assert!(said.contains("imported 2 quizzes and 1 actions"), "{said}");
    let out = pairlink(d, &["import", "a2.txt", "--database-url", &url]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot tell the format of a2.txt"),
        "{out:?}"
    );
    run(d, &["import", "--format", "csv", "a2.txt", "--database-url", &url]);
    let out = pairlink(d, &["import", "a.csv", "a.csv", "--database-url", &url]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("actions: id 5 is given by more than one file"),
        "{out:?}"
    );
    let out = pairlink(d, &["export", "--format", "csv", "--database-url", &url]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give --out DIR"),
        "{out:?}"
    );
}

#[test]
fn the_admin_token_is_checked_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let out = pairlink(dir.path(), &["serve", "--admin-token", "two words"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the admin token must be non-empty"),
        "{out:?}"
    );
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_pairlink"))
        .args(["serve", "--help"])
        .env("PAIRLINK_ADMIN_TOKEN", "very-secret")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--admin-token") && !help.contains("very-secret"),
        "{help}"
    );
}
