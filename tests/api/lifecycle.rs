//! Connections that survive real devices: keepalive, held delivery, echo, graceful
//! shutdown, slow consumers and limits. Intervals are configured short; no test sleeps
//! for long.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pairlink::db::Backend;
use pairlink::held::HoldPolicy;
use pairlink::session::{Limits, RateLimit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

const UUID: &str = "0b9f3c1e-8a5d-4c2b-9e7f-6d1a2b3c4d5e";

fn quick_keepalive() -> Limits {
    Limits {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(400),
        ..Limits::default()
    }
}

/// Reads server frames from a raw socket until its close frame; returns the opcodes seen
/// before it and the close code.
async fn frames_until_close(stream: &mut TcpStream) -> (Vec<u8>, u16) {
    let mut opcodes = Vec::new();
    loop {
        let mut header = [0u8; 2];
        tokio::time::timeout(PATIENCE, stream.read_exact(&mut header))
            .await
            .unwrap()
            .unwrap();
        let len = usize::from(header[1] & 0x7f);
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.unwrap();
        let opcode = header[0] & 0x0f;
        if opcode == 0x8 {
            return (opcodes, u16::from_be_bytes([payload[0], payload[1]]));
        }
        opcodes.push(opcode);
    }
}

#[tokio::test]
async fn a_silent_display_is_pinged_then_closed_and_its_controller_told() {
    let app = spawn(Setup::new(Backend::Sqlite).limits(quick_keepalive())).await;
    let mut display = raw_websocket(&app, &format!("/ws/difficulty/unity/{UUID}")).await;
    // The controller keeps reading, so its client library answers every ping, and stays.
    let (mut controller, mut replies) = app.controller(UUID).await.split();
    let (reply_tx, mut reply_rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(Ok(message)) = replies.next().await {
            if let Message::Text(text) = message {
                let _ = reply_tx.send(text.to_string()).await;
            }
        }
    });

    let (opcodes, code) = frames_until_close(&mut display).await;
    assert!(opcodes.contains(&0x9), "pinged before being closed: {opcodes:?}");
    assert_eq!(code, 4002);

    controller.send(Message::text(r#"{"difficulty":1}"#)).await.unwrap();
    let reply = tokio::time::timeout(PATIENCE, reply_rx.recv()).await.unwrap().unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["code"], "display_offline");
}

#[tokio::test]
async fn a_client_that_answers_pings_is_kept() {
    let app = spawn(Setup::new(Backend::Sqlite).limits(quick_keepalive())).await;
    let mut display = app.display(UUID).await;
    let mut pings = 0;
    // Read for several idle timeouts; the client library answers every ping.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, display.next()).await {
        match message.unwrap() {
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 3, "{pings} pings");
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

fn hold(hold_for: Duration, hold_max: usize) -> Setup {
    Setup::new(Backend::Sqlite)
        .catalog(tagged_catalog(1..=5, 3))
        .config(move |c| c.hold = Some(HoldPolicy { hold_for, hold_max }))
}

#[tokio::test]
async fn held_draws_reach_a_returning_display_in_order_and_once() {
    let app = spawn(hold(Duration::from_secs(5), 2)).await;
    let display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    close_and_wait(display).await;

    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"queued"}"#);
    send_text(&mut controller, r#"{"difficulty":2}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"queued"}"#);
    send_text(&mut controller, r#"{"difficulty":3}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "queue_full");

    let mut display = app.display(UUID).await;
    assert_eq!(next_json(&mut display).await["action_id"], 1);
    assert_eq!(next_json(&mut display).await["action_id"], 2);
    send_text(&mut controller, r#"{"difficulty":4}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    assert_eq!(
        next_json(&mut display).await["action_id"],
        4,
        "nothing held twice, nothing extra"
    );

    // A later reconnect gets nothing again.
    close_and_wait(display).await;
    let mut display = app.display(UUID).await;
    send_text(&mut controller, r#"{"difficulty":5}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    assert_eq!(next_json(&mut display).await["action_id"], 5);
}

#[tokio::test]
async fn held_draws_expire_and_the_controller_is_told() {
    let app = spawn(hold(Duration::from_millis(300), 4)).await;
    let display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    close_and_wait(display).await;

    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"queued"}"#);
    let expired = next_json(&mut controller).await;
    assert_eq!(
        (expired["status"].as_str(), expired["code"].as_str()),
        (Some("error"), Some("expired"))
    );

    let mut display = app.display(UUID).await;
    send_text(&mut controller, r#"{"difficulty":2}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    assert_eq!(
        next_json(&mut display).await["action_id"],
        2,
        "the expired draw was not delivered"
    );
}

#[tokio::test]
async fn without_holding_an_offline_display_is_reported_at_once() {
    let app = spawn(Setup::new(Backend::Sqlite)).await;
    let display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    close_and_wait(display).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "display_offline");
}

#[tokio::test]
async fn echo_returns_text_and_binary_unchanged() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut echo = connect(&app.ws_url("/echo")).await.unwrap();
    send_text(&mut echo, "héllo, pairlink").await;
    assert_eq!(next_text(&mut echo).await, "héllo, pairlink");
    echo.send(Message::binary(vec![0u8, 1, 2, 255])).await.unwrap();
    assert_eq!(next(&mut echo).await, Message::binary(vec![0u8, 1, 2, 255]));
    send_text(&mut echo, "").await;
    assert_eq!(next_text(&mut echo).await, "");
}

/// A masked client text frame, as a client library writes it.
fn masked_text(text: &str) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    assert!(text.len() < 126);
    let mut frame = vec![0x81, 0x80 | text.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(text.bytes().enumerate().map(|(i, byte)| byte ^ mask[i % 4]));
    frame
}

/// Reads one unmasked server text frame of fewer than 126 bytes; fails if none comes
/// within 5 seconds.
async fn read_text_frame(stream: &mut TcpStream) -> String {
    let read = async {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header).await.unwrap();
        assert_eq!(header[0], 0x81, "a final text frame");
        let mut payload = vec![0u8; usize::from(header[1])];
        stream.read_exact(&mut payload).await.unwrap();
        String::from_utf8(payload).unwrap()
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("the echo comes back")
}

#[tokio::test]
async fn frames_sent_with_the_handshake_and_together_are_all_answered() {
    let app = spawn_default(Backend::Sqlite).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    // The handshake and two frames in one write: the server's HTTP layer reads past the
    // handshake, and the socket must still see both frames, the second without any more
    // bytes arriving.
    let mut bytes = format!(
        "GET /echo HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        app.addr
    )
    .into_bytes();
    bytes.extend(masked_text("first"));
    bytes.extend(masked_text("second"));
    stream.write_all(&bytes).await.unwrap();
    read_switching_protocols(&mut stream).await;
    assert_eq!(read_text_frame(&mut stream).await, "first");
    assert_eq!(read_text_frame(&mut stream).await, "second");
    // Two more in one write, once the socket has found nothing left to read.
    let mut pair = masked_text("third");
    pair.extend(masked_text("fourth"));
    stream.write_all(&pair).await.unwrap();
    assert_eq!(read_text_frame(&mut stream).await, "third");
    assert_eq!(read_text_frame(&mut stream).await, "fourth");
}

#[tokio::test]
async fn echo_has_the_same_keepalive() {
    let app = spawn(Setup::new(Backend::Sqlite).limits(quick_keepalive())).await;
    let mut silent = raw_websocket(&app, "/echo").await;
    let (opcodes, code) = frames_until_close(&mut silent).await;
    assert!(opcodes.contains(&0x9), "{opcodes:?}");
    assert_eq!(code, 4002);
}

#[tokio::test]
async fn shutdown_flushes_everything_accepted_then_closes_every_client_with_1001() {
    const PAIRS: usize = 20;
    const MESSAGES: usize = 40;
    let app = spawn(Setup::new(Backend::Sqlite).catalog(tagged_catalog([1], 3))).await;
    let mut pairs = Vec::new();
    for _ in 0..PAIRS {
        let uuid = uuid::Uuid::new_v4().to_string();
        let display = app.display(&uuid).await;
        let controller = app.controller(&uuid).await;
        pairs.push((display, controller));
    }
    let mut echo = connect(&app.ws_url("/echo")).await.unwrap();
    // Every controller's draws are acknowledged while its display is not reading yet.
    for (_, controller) in &mut pairs {
        for _ in 0..MESSAGES {
            controller.feed(Message::text(r#"{"difficulty":1}"#)).await.unwrap();
        }
        controller.flush().await.unwrap();
    }
    for (_, controller) in &mut pairs {
        for _ in 0..MESSAGES {
            assert_eq!(next_text(controller).await, r#"{"status":"received"}"#);
        }
    }

    let stopping = tokio::spawn(app.stop());
    for (display, controller) in &mut pairs {
        for i in 0..MESSAGES {
            assert_eq!(
                next_json(display).await["action_id"],
                1,
                "draw {i} was flushed before the close"
            );
        }
        assert_eq!(u16::from(next_close(display).await.code), 1001);
        assert_eq!(u16::from(next_close(controller).await.code), 1001);
    }
    assert_eq!(u16::from(next_close(&mut echo).await.code), 1001);
    stopping.await.unwrap();
}

/// Connects a display whose socket has a tiny receive buffer and that never reads.
async fn stalled_display(app: &TestApp) -> Ws2 {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let (display, _) = tokio_tungstenite::client_async(app.ws_url(&format!("/ws/difficulty/unity/{UUID}")), stream)
        .await
        .unwrap();
    display
}

type Ws2 = tokio_tungstenite::WebSocketStream<TcpStream>;

#[tokio::test]
async fn a_display_whose_socket_stalls_is_dropped_and_its_controller_told() {
    let limits = Limits {
        write_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits)).await;
    let _display = stalled_display(&app).await;
    let (mut sink, mut replies) = app.controller(UUID).await.split();

    // One draw at a time is answered only once written; when the display's socket stops
    // taking data, the write stalls and the display is dropped.
    let mut received = 0usize;
    let last = loop {
        sink.send(Message::text(r#"{"difficulty":1}"#)).await.unwrap();
        let reply = tokio::time::timeout(PATIENCE, replies.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let reply: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
        if reply["status"] != "received" {
            break reply;
        }
        received += 1;
    };
    assert_eq!(last["code"], "display_offline", "{last}");
    assert!(received > 0, "draws went through before the display's socket filled");

    // The UUID is free again: a new display connects and receives.
    let mut display = app.display(UUID).await;
    sink.send(Message::text(r#"{"difficulty":1}"#)).await.unwrap();
    assert!(next_json(&mut display).await["quiz_id"].is_array());
}

#[tokio::test]
async fn a_connection_whose_queue_stays_full_is_closed_with_1013() {
    // Held draws are queued without waiting for their write, so they can fill the
    // queue of a display that does not read.
    let limits = Limits {
        queue_capacity: 8,
        write_timeout: Duration::from_secs(30),
        slow_consumer_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits).config(|c| {
        c.hold = Some(HoldPolicy {
            hold_for: Duration::from_secs(30),
            hold_max: 8,
        })
    }))
    .await;
    let mut display = stalled_display(&app).await;
    let (mut sink, mut replies) = app.controller(UUID).await.split();
    let reader = tokio::spawn(async move {
        loop {
            let reply = tokio::time::timeout(PATIENCE, replies.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let reply: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
            if reply["status"] == "error" {
                return reply;
            }
        }
    });
    let writer = tokio::spawn(async move {
        for _ in 0..200_000 {
            if sink.send(Message::text(r#"{"difficulty":1}"#)).await.is_err() {
                break;
            }
        }
    });
    let error = reader.await.unwrap();
    writer.abort();
    assert_eq!(error["code"], "display_offline", "{error}");

    // The display, reading at last, finds what its socket held, then the 1013 close.
    loop {
        let message = tokio::time::timeout(PATIENCE, display.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match message {
            Message::Text(_) | Message::Ping(_) => continue,
            Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1013);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn beyond_max_connections_upgrades_get_503_and_a_freed_slot_is_reused() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits)).await;
    let display = app.display(UUID).await;
    let _controller = app.controller(UUID).await;
    let refused = connect(&app.ws_url("/echo")).await.expect_err("full");
    let WsError::Http(response) = refused else {
        panic!("expected HTTP 503")
    };
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["code"], "server_full");

    close_and_wait(display).await;
    // The slot is released as the display's task ends, just after its close handshake.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match connect(&app.ws_url("/echo")).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(err) => panic!("the slot was never freed: {err}"),
        }
    }
}

#[tokio::test]
async fn an_unfinished_handshake_is_dropped_and_holds_no_slot() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let app = spawn(
        Setup::new(Backend::Sqlite)
            .limits(limits)
            .config(|c| c.handshake_timeout = Duration::from_millis(300)),
    )
    .await;
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled.write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n").await.unwrap();

    // Meanwhile a pair works normally, using both slots.
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    next_json(&mut display).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);

    // The stalled client is dropped by the server (its read ends) well within our patience.
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, stalled.read_to_end(&mut rest)).await;
    assert!(
        ended.is_ok(),
        "the server kept a client that never finished its request"
    );
}

#[tokio::test]
async fn messages_beyond_the_rate_limit_are_refused_and_the_connection_stays() {
    let rate: RateLimit = "1/3".parse().unwrap();
    let limits = Limits {
        rate_limit: Some(rate),
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits)).await;
    let mut echo = connect(&app.ws_url("/echo")).await.unwrap();
    for i in 0..10 {
        echo.feed(Message::text(format!("m{i}"))).await.unwrap();
    }
    echo.flush().await.unwrap();
    let mut echoed = Vec::new();
    let mut limited = 0;
    for _ in 0..10 {
        let text = next_text(&mut echo).await;
        if text.starts_with('{') {
            let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(reply["code"], "rate_limited", "{reply}");
            limited += 1;
        } else {
            echoed.push(text);
        }
    }
    assert_eq!(echoed, ["m0", "m1", "m2"], "the burst of 3 went through, in order");
    assert_eq!(limited, 7);
}

/// Rooms, signaling and the chat hub speak typed events, their `rate_limited` too.
#[tokio::test]
async fn rooms_signaling_and_the_hub_answer_rate_limited_as_a_typed_error() {
    let limits = Limits {
        rate_limit: Some("1/1".parse().unwrap()),
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits)).await;
    let signal = r#"{"type":"offer","target_id":"nobody","sdp":"x"}"#;
    for (path, message) in [
        ("/ws/rooms/limits?name=a", r#"{"n":1}"#),
        ("/ws/signal/limits", signal),
        ("/ws", "hello"),
    ] {
        let mut ws = connect(&app.ws_url(path)).await.unwrap();
        for _ in 0..4 {
            ws.feed(Message::text(message)).await.unwrap();
        }
        ws.flush().await.unwrap();
        let refused = loop {
            let text = next_text(&mut ws).await;
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if value["code"] == "rate_limited" {
                break value;
            }
        };
        assert_eq!(refused["type"], "error", "{path}: {refused}");
        assert!(refused.get("status").is_none(), "{path}: {refused}");
    }
}

#[tokio::test]
async fn the_server_keeps_serving_well_past_its_shutdown_timeout() {
    let app = spawn(Setup::new(Backend::Sqlite).config(|c| c.shutdown_timeout = Duration::from_millis(50))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut echo = connect(&app.ws_url("/echo")).await.expect("still listening");
    send_text(&mut echo, "still here").await;
    assert_eq!(next_text(&mut echo).await, "still here");
}

#[tokio::test]
async fn a_burst_from_a_controller_does_not_count_as_a_slow_display() {
    // The display reads promptly; the controller sends far more draws at once than the
    // display's queue holds. Only a display that stops reading is a slow consumer.
    let limits = Limits {
        queue_capacity: 4,
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits)).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    const BURST: usize = 500;
    for _ in 0..BURST {
        controller.feed(Message::text(r#"{"difficulty":1}"#)).await.unwrap();
    }
    controller.flush().await.unwrap();
    let reading = tokio::spawn(async move {
        for _ in 0..BURST {
            assert!(next_json(&mut display).await["quiz_id"].is_array());
        }
    });
    for i in 0..BURST {
        assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#, "ack {i}");
    }
    reading.await.unwrap();
}
