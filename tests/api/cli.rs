//! The `pairlink` binary as an operator meets it: clear sentences, exit codes, no panics.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::*;

/// Runs `pairlink ARGS` in `dir` with none of pairlink's variables from the outer environment.
pub fn pairlink(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("pairlink runs")
}

pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pairlink"));
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("PAIRLINK_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command
}

pub fn assert_one_clear_sentence(out: &Output, expected_code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(expected_code), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_and_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--bogus"]),
        2,
        "unexpected argument '--bogus'",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--bind", "nowhere"]),
        2,
        "invalid value 'nowhere'",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--database-url", "mysql://root@localhost/db"]),
        2,
        "not a supported database URL",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--max-message-bytes", "10"]),
        2,
        "--max-message-bytes",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--queue-capacity", "0"]),
        2,
        "--queue-capacity",
    );
    assert_one_clear_sentence(&pairlink(dir.path(), &["frobnicate"]), 2, "unrecognized subcommand");
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--ping-interval", "0s"]),
        2,
        "must be more than zero",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--idle-timeout", "soon"]),
        2,
        "--idle-timeout",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--rate-limit", "5/0"]),
        2,
        "is not a rate limit",
    );
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["serve", "--max-connections", "0"]),
        2,
        "--max-connections",
    );
    assert_one_clear_sentence(
        &pairlink(
            dir.path(),
            &[
                "serve",
                "--hold-for",
                "30s",
                "--hold-max",
                "100",
                "--queue-capacity",
                "64",
            ],
        ),
        2,
        "--hold-max (100) must not exceed --queue-capacity (64)",
    );
}

#[test]
fn a_worker_thread_count_that_is_not_a_positive_number_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "two", "-1", ""] {
        let out = command(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
            .env("TOKIO_WORKER_THREADS", bad)
            .output()
            .unwrap();
        assert_one_clear_sentence(
            &out,
            2,
            "TOKIO_WORKER_THREADS must be a whole number of threads above 0",
        );
    }
    // A good value starts the command (`--version` exits at once).
    let out = command(dir.path(), &["--version"])
        .env("TOKIO_WORKER_THREADS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_unreachable_database_is_one_sentence_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = pairlink(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "postgres://pairlink:secret@127.0.0.1:1/none",
        ],
    );
    assert_one_clear_sentence(
        &out,
        1,
        "cannot connect to the database at postgres://pairlink:***@127.0.0.1:1/none",
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret"));
}

#[test]
fn a_missing_import_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_one_clear_sentence(
        &pairlink(dir.path(), &["import", "nope.json"]),
        1,
        "cannot read nope.json",
    );
}

#[tokio::test]
async fn a_port_in_use_is_one_sentence_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = pairlink(dir.path(), &["serve", "--bind", &addr]);
    assert_one_clear_sentence(&out, 1, &format!("cannot listen on {addr}"));
}

#[test]
fn the_dotenv_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=sqlite://from-dotenv.db\n").unwrap();
    let out = pairlink(dir.path(), &["migrate"]);
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("from-dotenv.db").exists());
}

/// `pairlink serve` with its defaults creates `pairlink.db` in the working directory,
/// serves the demo content, and exits 0 on SIGTERM after closing connections with 1001.
#[tokio::test]
async fn serve_runs_with_demo_content_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        command(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("address=").nth(1) {
                let _ = addr_tx.send(rest.split_whitespace().next().unwrap().to_owned());
            }
        }
    });
    let addr = addr_rx.recv_timeout(PATIENCE).expect("the server logs its address");
    assert!(dir.path().join("pairlink.db").exists());

    let uuid = "3f0c7e4e-1b8e-4a7e-9a43-7d5c2f9d0b11";
    let mut display = connect(&format!("ws://{addr}/ws/difficulty/unity/{uuid}"))
        .await
        .unwrap();
    let mut controller = connect(&format!("ws://{addr}/ws/difficulty/android/{uuid}"))
        .await
        .unwrap();
    send_text(&mut controller, r#"{"difficulty":3}"#).await;
    let draw = next_json(&mut display).await;
    assert_eq!(draw["quiz_id"].as_array().unwrap().len(), 3, "{draw}");
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(u16::from(next_close(&mut display).await.code), 1001);
    assert_eq!(u16::from(next_close(&mut controller).await.code), 1001);
    let exit = tokio::task::spawn_blocking(move || {
        let mut child = child;
        child.0.wait()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// A server process that is killed if the test fails before stopping it.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
