//! A v2 client for the tests: connects offering `pairlink.v2`, and reads events checked
//! against their schema in docs/asyncapi.yaml.

use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::deployment::Deployment;
use crate::helpers::*;
use crate::schema;

/// Opens `url` offering `pairlink.v2`; the server must answer with it.
pub async fn connect_v2(url: &str) -> Ws {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("pairlink.v2"));
    let (ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|err| panic!("{url}: a v2 client connects: {err}"));
    assert_eq!(response.headers()["sec-websocket-protocol"], "pairlink.v2");
    ws
}

/// The next message of a display's (`pairingDisplay`) or controller's
/// (`pairingController`) connection, valid for that channel.
pub async fn next_event(ws: &mut Ws, channel: &str) -> Value {
    let event = next_json(ws).await;
    schema::assert_message(channel, &event);
    event
}

/// The next message, which must be of `kind`.
pub async fn expect(ws: &mut Ws, channel: &str, kind: &str) -> Value {
    let event = next_event(ws, channel).await;
    assert_eq!(event["type"], kind, "expected {kind}, got {event}");
    event
}

pub const DISPLAY: &str = "pairingDisplay";
pub const CONTROLLER: &str = "pairingController";

/// A v2 display on node `node`, past its welcome.
pub async fn display(app: &Deployment, node: usize, uuid: &str) -> (Ws, Value) {
    let mut ws = connect_v2(&app.url(node, &format!("/ws/difficulty/unity/{uuid}"))).await;
    let welcome = expect(&mut ws, DISPLAY, "welcome").await;
    (ws, welcome)
}

/// A v2 controller on node `node`, past its welcome.
pub async fn controller(app: &Deployment, node: usize, uuid: &str) -> (Ws, Value) {
    let mut ws = connect_v2(&app.url(node, &format!("/ws/difficulty/android/{uuid}"))).await;
    let welcome = expect(&mut ws, CONTROLLER, "welcome").await;
    (ws, welcome)
}
