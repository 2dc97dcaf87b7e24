//! The catalogue's storage: migrations, demo content, `pairlink import`, on both backends.

use pairlink::catalog::store;
use pairlink::db::{Backend, Database};

use crate::cli::pairlink;
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    serve_loads_the_demo_content_once,
    import_keeps_given_ids_replaces_by_id_and_numbers_the_rest,
    an_invalid_file_is_rejected_whole_with_row_positions,
    import_never_adds_demo_content,
    migrate_is_repeatable_and_adopts_a_seed_schema,
    imported_content_is_drawn_after_a_restart,
);

async fn count(db: &Database, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn serve_loads_the_demo_content_once(backend: Backend) {
    let app = spawn_default(backend).await;
    let db = app.database.connect().await;
    let (quizzes, actions) = (count(&db, "quizzes").await, count(&db, "actions").await);
    assert!(quizzes >= 15 && actions >= 5, "{quizzes} quizzes, {actions} actions");
    let catalog = store::load(&db).await.unwrap();
    for difficulty in 1..=5 {
        assert!(
            catalog.draw(difficulty, &mut rand::rng()).is_some(),
            "difficulty {difficulty}"
        );
    }
    // A second start on the same database adds nothing.
    let _app = app.restart().await;
    assert_eq!(count(&db, "quizzes").await, quizzes);
    assert_eq!(count(&db, "actions").await, actions);
}

fn write_file(dir: &tempfile::TempDir, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

async fn import_keeps_given_ids_replaces_by_id_and_numbers_the_rest(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let first = write_file(
        &dir,
        "first.json",
        r#"{
        "quizzes":[{"id":40,"name":"Forty","difficulty":2,"lef_sel":"a","rig_sel":"b","detail":"d"}],
        "actions":[{"id":7,"difficulty":2,"lef_sel":"l","rig_sel":"r","detail":""}]}"#,
    );
    let out = pairlink(
        dir.path(),
        &[
            "import",
            first.to_str().unwrap(),
            "--database-url",
            &database.url.to_string(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported 1 quizzes and 1 actions"),
        "{out:?}"
    );

    let second = write_file(
        &dir,
        "second.json",
        r#"{
        "quizzes":[{"id":40,"name":"Forty, renamed","difficulty":3,"lef_sel":"a","rig_sel":"b","detail":"d"},
                   {"name":"Next","difficulty":3,"lef_sel":"a","rig_sel":"b"}]}"#,
    );
    let out = pairlink(
        dir.path(),
        &[
            "import",
            second.to_str().unwrap(),
            "--database-url",
            &database.url.to_string(),
        ],
    );
    assert!(out.status.success(), "{out:?}");

    let db = database.connect().await;
    let rows: Vec<(i32, String, i32)> = sqlx::query_as("SELECT id, name, difficulty FROM quizzes ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![(40, "Forty, renamed".to_owned(), 3), (41, "Next".to_owned(), 3)]
    );

    // Rows added by other tools (which rely on the database's own id counter) do not
    // collide with imported ids.
    sqlx::query("INSERT INTO quizzes (name, difficulty, lef_sel, rig_sel, detail) VALUES ('sql', 1, 'a', 'b', '')")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(count(&db, "quizzes").await, 3);
}

async fn an_invalid_file_is_rejected_whole_with_row_positions(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "bad.json",
        r#"{
        "quizzes":[{"name":"ok","difficulty":1,"lef_sel":"a","rig_sel":"b"},
                   {"name":"no difficulty","lef_sel":"a","rig_sel":"b"}],
        "actions":[{"difficulty":1,"lef_sel":"a","rig_sel":""}]}"#,
    );
    let out = pairlink(
        dir.path(),
        &[
            "import",
            file.to_str().unwrap(),
            "--database-url",
            &database.url.to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("quizzes[1]: difficulty is required"), "{stderr}");
    assert!(stderr.contains("actions[0]: rig_sel must not be empty"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let db = database.connect().await;
    assert_eq!(count(&db, "quizzes").await, 0, "the valid row was not written either");
}

async fn import_never_adds_demo_content(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "one.json",
        r#"{"actions":[{"difficulty":1,"lef_sel":"a","rig_sel":"b"}]}"#,
    );
    let out = pairlink(
        dir.path(),
        &[
            "import",
            file.to_str().unwrap(),
            "--database-url",
            &database.url.to_string(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let db = database.connect().await;
    assert_eq!((count(&db, "quizzes").await, count(&db, "actions").await), (0, 1));
}

async fn migrate_is_repeatable_and_adopts_a_seed_schema(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    {
        // A database laid out by the seed's own migrations, before pairlink.
        let raw = Database::connect(&database.url).await.unwrap();
        let id = if backend == Backend::Postgres {
            "SERIAL"
        } else {
            "INTEGER"
        };
        sqlx::query(&format!(
            "CREATE TABLE quizzes (id {id} PRIMARY KEY, name VARCHAR(255), difficulty INTEGER, \
             lef_sel VARCHAR(255), rig_sel VARCHAR(255), detail VARCHAR(255))"
        ))
        .execute(raw.pool())
        .await
        .unwrap();
        sqlx::query("INSERT INTO quizzes (id, name, difficulty, lef_sel, rig_sel, detail) VALUES (5, 'seed', 1, 'a', 'b', NULL)")
            .execute(raw.pool())
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = pairlink(dir.path(), &["migrate", "--database-url", &database.url.to_string()]);
        assert!(out.status.success(), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("migrations applied"),
            "{out:?}"
        );
    }
    let db = database.connect().await;
    assert_eq!(count(&db, "quizzes").await, 1, "the seed's row is kept");
    assert_eq!(count(&db, "actions").await, 0, "the missing table was created");
}

async fn imported_content_is_drawn_after_a_restart(backend: Backend) {
    const UUID: &str = "5c6f1a2b-3d4e-4f50-8a1b-2c3d4e5f6071";
    let app = spawn_default(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "new.json",
        r#"{
        "quizzes":[{"id":900,"name":"new","difficulty":9,"lef_sel":"a","rig_sel":"b"}],
        "actions":[{"id":900,"difficulty":9,"lef_sel":"a","rig_sel":"b"}]}"#,
    );
    let out = pairlink(
        dir.path(),
        &[
            "import",
            file.to_str().unwrap(),
            "--database-url",
            &app.database.url.to_string(),
        ],
    );
    assert!(out.status.success(), "{out:?}");

    // The running server keeps drawing from the catalogue it loaded at start-up.
    {
        let _display = app.display(UUID).await;
        let mut controller = app.controller(UUID).await;
        send_text(&mut controller, r#"{"difficulty":9}"#).await;
        assert_eq!(next_json(&mut controller).await["code"], "no_content");
    }

    let app = app.restart().await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":9}"#).await;
    assert_eq!(next_text(&mut display).await, r#"{"quiz_id":[900],"action_id":900}"#);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}
