//! Every malformed message and frame has a defined answer, and loses nothing else.

use std::net::SocketAddr;

use futures_util::SinkExt;
use pairlink::session::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;

const UUID: &str = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

on_both_brokers!(
    bad_messages_get_error_codes_and_nothing_reaches_the_display,
    pings_are_answered_with_pongs,
    a_message_over_the_limit_closes_with_1009_and_others_carry_on,
    the_default_limit_is_64_kib,
    protocol_violations_close_with_the_rfc_code_and_spare_other_connections,
    a_controller_in_a_browser_can_send_text_frames_that_span_fragments,
    a_plain_http_request_gets_the_same_json_errors,
);

async fn bad_messages_get_error_codes_and_nothing_reaches_the_display(broker: BrokerKind) {
    // Difficulty 1 has quizzes and an action; 2 has quizzes only; 3 has nothing.
    let catalog = r#"{"quizzes":[{"id":11,"name":"q","difficulty":1,"lef_sel":"a","rig_sel":"b"},
                                 {"id":21,"name":"q","difficulty":2,"lef_sel":"a","rig_sel":"b"}],
                      "actions":[{"id":1,"difficulty":1,"lef_sel":"a","rig_sel":"b"}]}"#;
    let app = Deployment::with(broker, Options::new().catalog(catalog.to_owned())).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;

    let cases = [
        ("difficulty: 1", "invalid_json"),
        ("", "invalid_json"),
        (r#"{"difficulty": 1"#, "invalid_json"),
        (r#"{"difficulty":"1""#, "invalid_json"),
        ("[1,2", "invalid_json"),
        ("[1]", "invalid_difficulty"),
        ("[1,2]", "invalid_difficulty"),
        ("[]", "invalid_difficulty"),
        (r#""difficulty""#, "invalid_difficulty"),
        (r#"{"difficulty":1,"difficulty":2}"#, "invalid_difficulty"),
        ("1", "invalid_difficulty"),
        ("{}", "invalid_difficulty"),
        (r#"{"difficulty":"1"}"#, "invalid_difficulty"),
        (r#"{"difficulty":1.5}"#, "invalid_difficulty"),
        (r#"{"difficulty":null}"#, "invalid_difficulty"),
        (r#"{"difficulty":2}"#, "no_content"),
        (r#"{"difficulty":3}"#, "no_content"),
        (r#"{"difficulty":-1}"#, "no_content"),
        (r#"{"difficulty":99999999999}"#, "no_content"),
    ];
    for (sent, code) in cases {
        send_text(&mut controller, sent).await;
        let reply = next_json(&mut controller).await;
        assert_eq!(reply["status"], "error", "{sent:?}: {reply}");
        assert_eq!(reply["code"], code, "{sent:?}: {reply}");
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()), "{reply}");
    }
    // The connection is still open and the display's first message is this draw:
    // none of the failed messages sent it anything.
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut display).await, r#"{"quiz_id":[11],"action_id":1}"#);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);

    // A binary frame carrying the JSON works as the seed's ReadJSON did.
    controller
        .send(Message::binary(br#"{"difficulty":1}"#.to_vec()))
        .await
        .unwrap();
    assert_eq!(next_text(&mut display).await, r#"{"quiz_id":[11],"action_id":1}"#);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

async fn pings_are_answered_with_pongs(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(UUID).await;
    display
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    match futures_util::StreamExt::next(&mut display).await.unwrap().unwrap() {
        Message::Pong(payload) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
}

async fn a_message_over_the_limit_closes_with_1009_and_others_carry_on(broker: BrokerKind) {
    let limits = Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    };
    let app = Deployment::with(broker, Options::new().limits(limits)).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    let other = uuid::Uuid::new_v4().to_string();
    // On a cluster the other pair is the other way round.
    let mut other_display = app.display_on(1, &other).await;
    let mut other_controller = app.controller_on(0, &other).await;

    let padded = format!(r#"{{"difficulty":1,"pad":"{}"}}"#, "x".repeat(1024));
    send_text(&mut controller, &padded).await;
    assert_eq!(u16::from(next_close(&mut controller).await.code), 1009);

    // A message just under the limit is fine, and the other pair never noticed.
    let fits = format!(r#"{{"difficulty":1,"pad":"{}"}}"#, "x".repeat(900));
    send_text(&mut other_controller, &fits).await;
    next_json(&mut other_display).await;
    assert_eq!(next_text(&mut other_controller).await, r#"{"status":"received"}"#);
    // The display of the closed controller is still connected.
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    next_json(&mut display).await;
}

async fn the_default_limit_is_64_kib(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let _display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    let padded = format!(r#"{{"difficulty":1,"pad":"{}"}}"#, "x".repeat(64 * 1024));
    send_text(&mut controller, &padded).await;
    assert_eq!(u16::from(next_close(&mut controller).await.code), 1009);
}

/// Reads frames until a close frame and returns its code.
async fn read_close_code(stream: &mut TcpStream) -> u16 {
    loop {
        let mut header = [0u8; 2];
        tokio::time::timeout(PATIENCE, stream.read_exact(&mut header))
            .await
            .unwrap()
            .unwrap();
        let len = usize::from(header[1] & 0x7f);
        assert!(len < 126, "server frames here are short");
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.unwrap();
        if header[0] & 0x0f == 0x8 {
            return u16::from_be_bytes([payload[0], payload[1]]);
        }
    }
}

fn masked_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![first_byte, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

async fn protocol_violations_close_with_the_rfc_code_and_spare_other_connections(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    let display_path = format!("/ws/difficulty/unity/{}", uuid::Uuid::new_v4());

    let violations: [(&str, Vec<u8>, u16); 4] = [
        ("unmasked frame from a client", vec![0x81, 0x02, b'h', b'i'], 1002),
        ("reserved bits set", masked_frame(0xf1, b"hi"), 1002),
        ("unknown opcode", masked_frame(0x83, b"hi"), 1002),
        ("text that is not UTF-8", masked_frame(0x81, &[0xff, 0xfe, 0xfd]), 1007),
    ];
    for (node, (what, frame, code)) in violations.into_iter().enumerate() {
        let mut raw = raw_websocket_at(app.addr(node), &display_path).await;
        raw.write_all(&frame).await.unwrap();
        assert_eq!(read_close_code(&mut raw).await, code, "{what}");
    }
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    next_json(&mut display).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

async fn a_controller_in_a_browser_can_send_text_frames_that_span_fragments(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(UUID).await;
    let mut raw = raw_websocket_at(app.addr(1), &format!("/ws/difficulty/android/{UUID}")).await;
    // `{"difficulty":1}` split into a text frame and a continuation frame.
    raw.write_all(&masked_frame(0x01, br#"{"diffi"#)).await.unwrap();
    raw.write_all(&masked_frame(0x80, br#"culty":1}"#)).await.unwrap();
    let draw = next_json(&mut display).await;
    assert!(draw["quiz_id"].is_array(), "{draw}");
}

/// Sends a plain HTTP GET (no upgrade headers) to `addr` and returns the status and JSON body.
async fn plain_get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase().contains("content-type: application/json"),
        "{head}"
    );
    (status, serde_json::from_str(body).unwrap())
}

async fn a_plain_http_request_gets_the_same_json_errors(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    // On a cluster the display is on node 0 and the requests go to node 1.
    let node = app.addr(1);
    let (status, body) = plain_get(node, "/ws/difficulty/unity/nope").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_uuid")));
    let (status, body) = plain_get(node, &format!("/ws/difficulty/android/{UUID}")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("display_offline")));

    let _display = app.display(UUID).await;
    let (status, body) = plain_get(node, &format!("/ws/difficulty/android/{UUID}")).await;
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(body["code"], "not_websocket");
    let (status, body) = plain_get(node, "/echo").await;
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(body["code"], "not_websocket");
}
