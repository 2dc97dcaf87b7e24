//! `pairlink client`, driven as a person would: a spawned process, lines on its stdin,
//! pretty JSON on its stdout, progress on its stderr, against a real server, including a
//! server restart in the middle of a session.

use std::process::Stdio;

use pairlink::db::Backend;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use crate::helpers::*;

const UUID: &str = "7c2e9d41-5b3a-4f6e-8d1c-9a0b2c3d4e5f";

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
}

impl Client {
    fn start(app: &TestApp, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pairlink"))
            .arg("client")
            .args(args)
            .args([
                "--url",
                &format!("ws://{}", app.addr),
                "--retry-initial",
                "100ms",
                "--retry-max",
                "400ms",
            ])
            .env_remove("PAIRLINK_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("pairlink client starts");
        Self {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
            stderr: BufReader::new(child.stderr.take().unwrap()).lines(),
            child,
        }
    }

    async fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// The next line of stdout.
    async fn printed_line(&mut self) -> String {
        tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .expect("the client prints within the test's patience")
            .unwrap()
            .expect("stdout still open")
    }

    /// The next JSON value printed (pretty printed over several lines).
    async fn printed_json(&mut self) -> Value {
        let mut text = String::new();
        loop {
            text.push_str(&self.printed_line().await);
            text.push('\n');
            if let Ok(value) = serde_json::from_str(&text) {
                return value;
            }
        }
    }

    /// Reads stderr until a line containing `needle`; returns everything read.
    async fn says(&mut self, needle: &str) -> String {
        let mut seen = String::new();
        loop {
            let line = tokio::time::timeout(PATIENCE, self.stderr.next_line())
                .await
                .unwrap_or_else(|_| panic!("the client never said {needle:?}; it said:\n{seen}"))
                .unwrap()
                .unwrap_or_else(|| panic!("stderr closed before {needle:?}; it said:\n{seen}"));
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(needle) {
                return seen;
            }
        }
    }

    /// Ends input and waits for the process to exit; returns its exit code.
    async fn finish(mut self) -> Option<i32> {
        drop(self.stdin.take());
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("exits")
            .unwrap();
        status.code()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_display_and_a_controller_client_pair_and_talk_both_ways() {
    let app = spawn(Setup::new(Backend::Sqlite).catalog(tagged_catalog([1, 2], 3))).await;
    let mut display = Client::start(&app, &["display", UUID]);
    assert_eq!(display.printed_json().await["type"], "welcome", "v2 by default");
    let mut controller = Client::start(&app, &["controller", UUID, "--difficulty", "1"]);
    assert_eq!(controller.printed_json().await["peer"], true);
    assert_eq!(
        display.printed_json().await,
        json!({"type":"peer","role":"controller","connected":true})
    );

    let draw = display.printed_json().await;
    assert_eq!(
        (&draw["type"], &draw["action_id"]),
        (&json!("draw"), &json!(1)),
        "the --difficulty was sent: {draw}"
    );
    assert_eq!(draw["quiz_id"].as_array().unwrap().len(), 3);
    assert_eq!(
        controller.printed_json().await,
        json!({"type":"ack","id":1,"status":"received"})
    );

    controller.type_line("2").await; // a bare number is a difficulty, with the next id
    assert_eq!(display.printed_json().await["action_id"], 2);
    assert_eq!(
        controller.printed_json().await,
        json!({"type":"ack","id":2,"status":"received"})
    );
    controller.type_line("7").await;
    let error = controller.printed_json().await;
    assert_eq!((&error["code"], &error["id"]), (&json!("no_content"), &json!(3)));

    display.type_line(r#"{"result":"correct"}"#).await;
    assert_eq!(
        controller.printed_json().await,
        json!({"type":"relay","data":{"result":"correct"}})
    );
    controller.type_line("jump").await;
    assert_eq!(display.printed_json().await, json!({"type":"relay","data":"jump"}));

    assert_eq!(controller.finish().await, Some(0));
    assert_eq!(display.finish().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_v1_the_clients_speak_the_seed_protocol() {
    let app = spawn(Setup::new(Backend::Sqlite).catalog(tagged_catalog([1, 2], 3))).await;
    let mut display = Client::start(&app, &["display", UUID, "--v1"]);
    display.says("connected").await;
    let mut controller = Client::start(&app, &["controller", UUID, "--difficulty", "1", "--v1"]);
    let draw = display.printed_json().await;
    assert_eq!(draw["action_id"], 1, "the --difficulty was sent: {draw}");
    assert!(draw.get("type").is_none(), "the seed's draw: {draw}");
    assert_eq!(controller.printed_json().await, json!({"status":"received"}));
    controller.type_line("{\"difficulty\": 7}").await;
    assert_eq!(controller.printed_json().await["code"], "no_content");
    display.type_line(r#"{"result":"correct"}"#).await;
    assert_eq!(controller.printed_json().await, json!({"result":"correct"}));
    assert_eq!(controller.finish().await, Some(0));
    assert_eq!(display.finish().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_client_reconnects_after_a_server_restart() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut display = Client::start(&app, &["display", UUID]);
    display.says("connected").await;

    let app = app.restart().await;
    let said = display.says("reconnecting in").await;
    assert!(said.contains("1001"), "tells why: {said}");
    display.says("connected").await;

    // Reconnected as the display: a controller pairs with it.
    assert_eq!(
        display.printed_json().await["type"],
        "welcome",
        "the first connection's"
    );
    assert_eq!(display.printed_json().await["type"], "welcome", "the second one's");
    let mut controller = app.controller(UUID).await;
    assert_eq!(display.printed_json().await["type"], "peer");
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert!(display.printed_json().await["quiz_id"].is_array());
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_controller_client_waits_for_its_display() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut controller = Client::start(&app, &["controller", UUID, "--difficulty", "1"]);
    let said = controller.says("reconnecting in").await;
    assert!(said.contains("4400 display_offline"), "{said}");
    let mut display = app.display(UUID).await;
    controller.says("connected").await;
    assert!(next_json(&mut display).await["quiz_id"].is_array());
    // Each refused attempt printed its error; then the welcome, then the answer.
    let mut printed = controller.printed_json().await;
    while printed["type"] == "error" {
        assert_eq!(printed["code"], "display_offline");
        printed = controller.printed_json().await;
    }
    assert_eq!(printed["type"], "welcome");
    assert_eq!(controller.printed_json().await["status"], "received");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_room_client_sends_json_and_prints_the_room() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut member = Client::start(&app, &["room", "lobby", "--name", "Ana B"]);
    let welcome = member.printed_json().await;
    assert_eq!(welcome["members"][0]["name"], "Ana B");
    let mut other = connect(&app.ws_url("/ws/rooms/lobby")).await.unwrap();
    let _ = next_of_type(&mut other, "welcome").await;
    assert_eq!(member.printed_json().await["type"], "join");

    member.type_line(r#"{"text":"hi"}"#).await;
    let message = next_of_type(&mut other, "message").await;
    assert_eq!(
        (message["data"].clone(), message["name"].clone()),
        (json!({"text":"hi"}), json!("Ana B"))
    );
    assert_eq!(member.printed_json().await["seq"], 1);
    member.type_line("not json").await;
    assert_eq!(member.printed_json().await["code"], "invalid_message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_echo_client_prints_what_comes_back_and_exits_at_end_of_input() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut echo = Client::start(&app, &["echo"]);
    echo.type_line("hello there").await;
    assert_eq!(echo.printed_line().await, "hello there");
    echo.type_line("[1,2]").await;
    assert_eq!(echo.printed_json().await, json!([1, 2]));
    assert_eq!(echo.finish().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replaced_client_stops_instead_of_fighting_for_its_place() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut first = Client::start(&app, &["display", UUID]);
    first.says("connected").await;
    let _second = app.display(UUID).await;
    let said = first.says("error:").await;
    assert!(said.contains("4001") && said.contains("not reconnecting"), "{said}");
    assert_eq!(first.finish().await, Some(1));
}

#[tokio::test]
async fn bad_arguments_are_usage_errors() {
    let app = spawn_default(Backend::Sqlite).await;
    for args in [
        &["display", "not-a-uuid"][..],
        &["room", "two words"],
        &["controller", UUID, "--difficulty", "x"],
    ] {
        let mut client = Client::start(&app, args);
        let said = client.says("error").await;
        assert_eq!(client.finish().await, Some(2), "{args:?}: {said}");
    }
}
