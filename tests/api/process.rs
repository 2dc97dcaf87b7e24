//! A `pairlink serve` process of its own, for what is process-wide: the metrics
//! registry and the log output. Other tests run the server in the test process.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::PATIENCE;

pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
    stderr: Arc<Mutex<String>>,
    _dir: Option<TempDir>,
}

impl ServerProcess {
    /// Starts `pairlink serve` on a free port with a fresh SQLite database, plus `args`
    /// and the environment `env`; returns once it listens.
    pub async fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("pairlink.db").display());
        let mut server = Self::start_on(&database, args, env).await;
        server._dir = Some(dir);
        server
    }

    /// Like [`ServerProcess::start`], on the database at `database` (shared by a cluster).
    pub async fn start_on(database: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pairlink"));
        for (key, _) in std::env::vars() {
            if key.starts_with("PAIRLINK_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", database])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("pairlink starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = tokio::time::timeout(PATIENCE, async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .unwrap()
                    .expect("pairlink exited before listening");
                stderr.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(addr) = listening_address(&line) {
                    return addr;
                }
            }
        })
        .await
        .expect("pairlink listens");
        let collected = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                collected.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Self {
            addr,
            child,
            stderr,
            _dir: None,
        }
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its whole log.
    pub async fn stop(self) -> String {
        self.signal("-TERM").await
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the process: a node that stops answering
    /// without going away, as in a long pause or a network partition.
    pub fn freeze(&self, frozen: bool) {
        let pid = self.child.id().expect("running").to_string();
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Kills the process with SIGKILL: it gets no chance to clean up.
    pub async fn kill(self) -> String {
        self.signal("-KILL").await
    }

    async fn signal(mut self, signal: &str) -> String {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("exits")
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        self.log()
    }
}

/// The address in the "pairlink is listening" line, human or JSON.
fn listening_address(line: &str) -> Option<SocketAddr> {
    if !line.contains("pairlink is listening") {
        return None;
    }
    let start = line.find("127.0.0.1:")?;
    let end = line[start..]
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
        .map_or(line.len(), |end| start + end);
    line[start..end].parse().ok()
}
