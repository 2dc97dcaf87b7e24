//! The start of a v2 pair, before any load: each side's welcome (or its in-band
//! refusal), then the display told that its controller is there. Only then is the pair
//! ready: relay data sent earlier could find the other side not yet registered.

use futures_util::StreamExt;
use serde::Deserialize;

use super::connect::{ConnectError, Ws};
use super::wire::{Incoming, excerpt};
use crate::protocol::Role;
use crate::protocol::v2::{PeerEvent, Welcome};

/// What a greeting may hold besides the welcome: an in-band refusal.
#[derive(Deserialize)]
struct Refusal {
    code: String,
    #[serde(default)]
    message: String,
}

/// Reads the first message of `role`'s v2 connection: its welcome. An error event
/// there is the server's refusal (`display_offline`, `server_full`, …).
pub async fn welcome(ws: &mut Ws, role: Role) -> Result<Welcome, ConnectError> {
    let text = next_text(ws, role, "its welcome").await?;
    if let Ok(welcome) = serde_json::from_slice::<Welcome>(&text) {
        return Ok(welcome);
    }
    match kind(&text).as_deref() {
        Some("error") => {
            let refusal: Refusal = serde_json::from_slice(&text).map_err(|_| unexpected(role, "welcome", &text))?;
            Err(ConnectError::RefusedInBand {
                role,
                code: refusal.code,
                message: refusal.message,
            })
        }
        _ => Err(unexpected(role, "welcome", &text)),
    }
}

/// Waits on the display until it is told its controller connected. The display's own
/// welcome said whether it was there already (`peer`); if so, there is nothing to wait for.
pub async fn controller_arrived(display: &mut Ws, welcome: &Welcome) -> Result<(), ConnectError> {
    if welcome.peer {
        return Ok(());
    }
    let text = next_text(display, Role::Display, "news of its controller").await?;
    match serde_json::from_slice::<PeerEvent>(&text) {
        Ok(PeerEvent {
            role: Role::Controller,
            connected: true,
        }) => Ok(()),
        _ => Err(unexpected(Role::Display, "peer", &text)),
    }
}

/// The next text frame, past pings.
async fn next_text(
    ws: &mut Ws,
    role: Role,
    awaited: &str,
) -> Result<tokio_tungstenite::tungstenite::Bytes, ConnectError> {
    loop {
        match Incoming::from(ws.next().await) {
            Incoming::Text(text) => return Ok(text),
            Incoming::Control => {}
            Incoming::Binary(_) => {
                return Err(ConnectError::Greeting {
                    role,
                    problem: format!("a binary frame came before {awaited}"),
                });
            }
            Incoming::Ended(why) => {
                return Err(ConnectError::Greeting {
                    role,
                    problem: format!("the connection ended before {awaited}: {why}"),
                });
            }
        }
    }
}

/// A message's `type`, if it has one.
fn kind(text: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Tagged {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_slice::<Tagged>(text).ok().map(|tagged| tagged.kind)
}

fn unexpected(role: Role, expected: &str, text: &[u8]) -> ConnectError {
    ConnectError::Greeting {
        role,
        problem: format!("expected a {expected} message, got {}", excerpt(text)),
    }
}
