//! One WebSocket connection, run as a small actor.
//!
//! A single task owns the socket. It selects over the frames its client sends, the
//! connection's bounded [`outbox`], and the server's shutdown signal; nothing else ever
//! writes to the socket (the seed wrote to one socket from several goroutines). What a
//! connection *means* (display, controller, echo …) is a [`Handler`]; this module knows
//! only frames, queues, limits and close codes.

pub mod outbox;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use futures_util::SinkExt;
use tokio_util::sync::CancellationToken;

use outbox::{Inbox, Outgoing};

/// Close codes pairlink sends; docs/protocol.md lists when each is used.
pub mod close_code {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke RFC 6455 framing.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message was not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A message exceeded `--max-message-bytes`.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The client stopped reading and its outbound queue filled up.
    pub const SLOW_CONSUMER: u16 = 1013;
    /// A newer connection took this connection's place (same UUID and role).
    pub const REPLACED: u16 = 4001;
}

/// Builds a close frame with a static reason.
pub fn close_frame(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }
}

/// How long a write may stall before the client is considered gone. A client that
/// stops reading fills the kernel's buffer first, then this bound applies.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the client's answer to a close frame we sent.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages written per flush when several are queued.
const WRITE_BATCH: usize = 64;
/// The socket's read buffer. Protocol messages are tens of bytes; a small buffer keeps
/// an idle connection cheap, and longer messages still arrive (the buffer grows to fit).
const READ_BUFFER_BYTES: usize = 1024;
/// Bytes gathered before a write reaches the socket, unless flushed earlier.
const WRITE_BUFFER_BYTES: usize = 4096;

/// Limits every WebSocket connection shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (and frame) a client may send; beyond it the connection is closed with 1009.
    pub max_message_bytes: usize,
    /// Unsent messages a connection may hold before it counts as a slow consumer.
    pub queue_capacity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            queue_capacity: 64,
        }
    }
}

impl Limits {
    /// Applies the limits and the buffer sizes to an upgrade before it is answered.
    pub fn configure(&self, upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
        upgrade
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(WRITE_BUFFER_BYTES)
            .max_write_buffer_size(WRITE_BUFFER_BYTES + 2 * self.max_message_bytes)
            .max_message_size(self.max_message_bytes)
            .max_frame_size(self.max_message_bytes)
    }
}

/// A data message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Incoming {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Incoming::Text(text) => text.as_bytes(),
            Incoming::Binary(bytes) => bytes,
        }
    }
}

/// What a connection does with the messages its client sends.
pub trait Handler: Send {
    /// Handles one message; returns the answer to write back on this connection, if any.
    fn on_message(&mut self, message: Incoming) -> impl Future<Output = Option<Message>> + Send;

    /// Called once when the connection stops serving, *before* the closing handshake is
    /// finished: a client that has seen its close acknowledged can rely on the server
    /// having already let go of it (e.g. a display's UUID is free again).
    fn on_end(&mut self) -> impl Future<Output = ()> + Send;
}

/// How a connection ended.
#[derive(Debug)]
enum End {
    /// The client vanished or the socket failed; nothing more can be sent.
    Gone,
    /// The client sent a close frame; its reply is queued and only needs flushing.
    ClosedByClient,
    /// We close with this frame and wait briefly for the client's reply.
    Close(CloseFrame),
    /// The client broke the protocol: send this frame and drop the connection.
    Fail(CloseFrame),
}

/// Runs a connection until it ends. Returns once the socket is closed.
pub async fn run(mut socket: WebSocket, mut inbox: Inbox, mut handler: impl Handler, shutdown: CancellationToken) {
    let end = loop {
        tokio::select! {
            biased;
            outgoing = inbox.next() => match outgoing {
                Outgoing::Message(message) => {
                    if write_queued(&mut socket, &mut inbox, message).await.is_err() {
                        break End::Gone;
                    }
                }
                Outgoing::Close(frame) => break End::Close(frame),
            },
            () = shutdown.cancelled() => {
                // Flush what was accepted before the signal, then say goodbye.
                if let Some(Outgoing::Message(first)) = inbox.try_next() {
                    if write_queued(&mut socket, &mut inbox, first).await.is_err() {
                        break End::Gone;
                    }
                }
                break End::Close(close_frame(close_code::GOING_AWAY, "going away"));
            }
            incoming = socket.recv() => {
                let message = match incoming {
                    None => break End::Gone,
                    Some(Err(err)) => match close_for_error(err) {
                        Some(frame) => break End::Fail(frame),
                        None => break End::Gone,
                    },
                    Some(Ok(Message::Text(text))) => Incoming::Text(text),
                    Some(Ok(Message::Binary(bytes))) => Incoming::Binary(bytes),
                    // Pings are answered by the WebSocket layer itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) => break End::ClosedByClient,
                };
                if let Some(reply) = handler.on_message(message).await {
                    if !matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.send(reply)).await, Ok(Ok(()))) {
                        break End::Gone;
                    }
                }
            }
        }
    };
    handler.on_end().await;
    finish(socket, end).await;
}

/// Writes `first` and whatever else is already queued, then flushes once.
async fn write_queued(socket: &mut WebSocket, inbox: &mut Inbox, first: Message) -> Result<(), ()> {
    let write = async {
        socket.feed(first).await?;
        for _ in 1..WRITE_BATCH {
            match inbox.try_next() {
                Some(Outgoing::Message(message)) => socket.feed(message).await?,
                // A close stays in the queue for the main loop to act on.
                _ => break,
            }
        }
        socket.flush().await
    };
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Sends the closing frame (if there is one to send) and waits briefly for the reply.
async fn finish(mut socket: WebSocket, end: End) {
    let (frame, await_reply) = match end {
        End::Gone => return,
        End::ClosedByClient => {
            // Sends the close reply the WebSocket layer queued.
            let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.flush()).await;
            return;
        }
        End::Close(frame) => (frame, true),
        End::Fail(frame) => (frame, false),
    };
    tracing::debug!(code = frame.code, reason = %frame.reason, "closing connection");
    let sent = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    if !matches!(sent, Ok(Ok(()))) || !await_reply {
        return;
    }
    // Read until the client's close arrives (the stream then ends), discarding the rest.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async { while let Some(Ok(_)) = socket.recv().await {} }).await;
}

/// The close frame owed to a client whose traffic broke a rule, or `None` when the
/// connection is simply gone (reset, closed, I/O error).
fn close_for_error(err: axum::Error) -> Option<CloseFrame> {
    let inner = err.into_inner();
    let err = inner.downcast_ref::<tungstenite::Error>()?;
    use tungstenite::error::{CapacityError, Error, ProtocolError};
    let frame = match err {
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return None,
        Error::Capacity(CapacityError::MessageTooLong { .. }) => {
            close_frame(close_code::MESSAGE_TOO_BIG, "message too big")
        }
        Error::Capacity(_) => close_frame(close_code::MESSAGE_TOO_BIG, "frame too big"),
        Error::Protocol(_) => close_frame(close_code::PROTOCOL_ERROR, "protocol error"),
        Error::Utf8(_) => close_frame(close_code::INVALID_PAYLOAD, "invalid UTF-8 in text message"),
        _ => return None,
    };
    tracing::debug!(error = %err, code = frame.code, "client broke the protocol");
    Some(frame)
}
