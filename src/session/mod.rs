//! One WebSocket connection, run as a small actor, and the bookkeeping of all of them.
//!
//! A single task owns each socket. It selects over the frames its client sends and the
//! connection's bounded [`outbox`]; nothing else ever writes to the socket (the seed
//! wrote to one socket from several goroutines). Keepalive pings, idle closes and the
//! goodbye at shutdown reach it through its outbox too, from the one [`registry`] of
//! live connections, so that an idle connection holds no timer of its own. What a
//! connection *means* (display, controller, echo …) is a [`Handler`]; this module knows
//! only frames, queues, limits and close codes.

pub mod limits;
pub mod outbox;
pub mod refusal;
mod registry;
mod socket;
mod upgrade;

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{Sink, SinkExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;
use tracing::{Instrument, Span};
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Message, Utf8Bytes};

use crate::metrics::{ConnectionMetrics, Kind, METRICS};
use crate::protocol::close::{self, Close};
use crate::protocol::{ErrorCode, ErrorReply, Frame, Version, WireError};
use crate::telemetry;
pub use limits::{Limits, RateLimit};
use outbox::{OutboxReader, Outgoing};
use refusal::Refusal;
use registry::Registry;
pub use socket::Socket;
pub use upgrade::WebSocketUpgrade;

/// An error for the client, counted in `pairlink_errors_total`: every error answer that
/// pairlink sends on a WebSocket is made here.
pub fn error_message(error: &impl WireError) -> Message {
    METRICS.error(error.code());
    Message::Text(error.to_json().into())
}

/// The close frame for `close`.
pub fn close_frame(close: Close) -> CloseFrame {
    CloseFrame {
        code: close.code.into(),
        reason: Utf8Bytes::from_static(close.reason),
    }
}

/// How long to wait for the client's answer to a close frame we sent.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages written per flush when several are queued.
const WRITE_BATCH: usize = 64;
/// The socket's read buffer. Protocol messages are tens of bytes; a small buffer keeps
/// an idle connection cheap, and longer messages still arrive (the buffer grows to fit).
const READ_BUFFER_BYTES: usize = 128;
/// Bytes gathered before a write reaches the socket, unless flushed earlier.
const WRITE_BUFFER_BYTES: usize = 4096;

/// Socket settings with [`READ_BUFFER_BYTES`] and [`WRITE_BUFFER_BYTES`], for every
/// socket pairlink opens, refused ones included (tungstenite's defaults allocate 128 KiB
/// to read into, and refusals come in bursts when the server is full).
fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
}

/// Every WebSocket connection of the server: the limits they share, the slots that cap
/// their number, the registry that keeps them alive and closes them at shutdown, and
/// the tracker shutdown waits on (axum's graceful shutdown does not wait for upgraded
/// connections, axum issue #3003).
#[derive(Clone)]
pub struct Sessions(Arc<Shared>);

struct Shared {
    limits: Limits,
    slots: Arc<Semaphore>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    registry: Arc<Registry>,
}

impl Sessions {
    pub fn new(limits: Limits) -> Self {
        Self(Arc::new(Shared {
            limits,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            registry: Arc::new(Registry::new(limits.ping_interval, limits.idle_timeout)),
        }))
    }

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    /// Takes a connection slot before an upgrade is answered; `server_full` (503) when
    /// none is free.
    /// The connection is counted as open from here, and gets its log span.
    #[allow(clippy::result_large_err)]
    pub fn admit(&self, kind: Kind) -> Result<Admission, Refusal> {
        match self.0.slots.clone().try_acquire_owned() {
            Ok(permit) => {
                METRICS.connection(kind).open.inc();
                let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
                // At debug level: an enabled span costs every connection about half a
                // kilobyte in the subscriber's registry, and the events inside it are
                // debug events; at the default `info` it costs nothing.
                let span = tracing::debug_span!(
                    "connection",
                    id,
                    endpoint = kind.endpoint(),
                    role = kind.role(),
                    subject = tracing::field::Empty
                );
                Ok(Admission {
                    _permit: permit,
                    _tracked: self.0.tracker.token(),
                    sessions: self.clone(),
                    kind,
                    span,
                })
            }
            Err(_) => {
                tracing::warn!(
                    max = self.0.limits.max_connections,
                    "refusing a WebSocket: --max-connections reached"
                );
                Err(Refusal::server_full())
            }
        }
    }

    /// A queue for a connection about to be admitted, sized by `--queue-capacity`.
    pub fn outbox(&self) -> (outbox::Outbox, OutboxReader) {
        self.outbox_with_headroom(0)
    }

    /// A queue with room for `extra` messages on top of `--queue-capacity`: a room member
    /// receives its welcome and the replayed history in one burst when it joins.
    pub fn outbox_with_headroom(&self, extra: usize) -> (outbox::Outbox, OutboxReader) {
        outbox::outbox(self.0.limits.queue_capacity + extra)
    }

    /// Cancelled when the server begins to shut down.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.0.shutdown
    }

    /// WebSocket connections open now (upgraded or being upgraded).
    pub fn open(&self) -> usize {
        self.0.tracker.len()
    }

    /// Tells every connection to flush and close with 1001, and waits for them, at most `timeout`.
    /// Returns how many were still open at the deadline.
    pub async fn close_all(&self, timeout: Duration) -> usize {
        self.0.shutdown.cancel();
        self.0.registry.close_all();
        self.0.tracker.close();
        match tokio::time::timeout(timeout, self.0.tracker.wait()).await {
            Ok(()) => 0,
            Err(_) => self.0.tracker.len(),
        }
    }
}

/// The WebSocket handshake of a request, or why the request is not one; handlers take
/// it this way to answer with [`require_upgrade`] after the URL's own checks.
pub type Upgrade = Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>;

/// An HTTP error before the upgrade, with the same JSON body as in-band errors.
pub fn refuse(status: StatusCode, code: ErrorCode, message: String) -> Response {
    METRICS.error(code);
    let body = ErrorReply::new(code, message).to_json();
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The upgrade from a request, or the JSON refusal for a request that is not a
/// WebSocket handshake (a plain GET from curl or a browser tab, a wrong method …).
#[allow(clippy::result_large_err)]
pub fn require_upgrade(upgrade: Upgrade) -> Result<WebSocketUpgrade, Response> {
    upgrade.map_err(|rejection| {
        refuse(
            rejection.status(),
            ErrorCode::NotWebsocket,
            format!("this URL takes a WebSocket handshake: {}", rejection.body_text()),
        )
    })
}

/// Numbers connections for their log spans.
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// A connection slot, held from before the 101 until the connection ends.
pub struct Admission {
    _permit: OwnedSemaphorePermit,
    _tracked: TaskTrackerToken,
    sessions: Sessions,
    kind: Kind,
    span: Span,
}

impl Drop for Admission {
    fn drop(&mut self) {
        METRICS.connection(self.kind).open.dec();
    }
}

impl Admission {
    /// Names what the connection is about (its UUID or room) in its log span, only with
    /// `--log-ids`: UUIDs work as bearer secrets and stay out of logs by default.
    pub fn subject(&self, subject: &dyn std::fmt::Display) {
        if telemetry::log_ids() {
            self.span.record("subject", tracing::field::display(subject));
        }
    }

    /// Answers `upgrade` with the shared limits and, once upgraded, runs the connection
    /// with `handler`. If the upgrade never completes, the handler is dropped unused.
    /// A v2 client is answered with the `pairlink.v2` subprotocol it offered.
    pub fn upgrade<H: Handler + 'static>(
        self,
        version: Version,
        upgrade: WebSocketUpgrade,
        inbox: OutboxReader,
        handler: H,
    ) -> Response {
        let limits = self.sessions.0.limits;
        let config = small_buffers()
            .max_write_buffer_size(WRITE_BUFFER_BYTES + 2 * limits.max_message_bytes)
            .max_message_size(Some(limits.max_message_bytes))
            .max_frame_size(Some(limits.max_message_bytes));
        // What the callback captures is boxed: the upgrade's task keeps the callback's
        // captures for its whole life next to the connection's future, which holds them
        // again. The connection's future is handed over as it is: wrapping it in another
        // async block would store the socket and handler twice.
        refusal::select(version, upgrade).on_upgrade(config, {
            let parts = Box::new((inbox, handler, self));
            move |socket| {
                let (inbox, handler, admission) = *parts;
                let span = admission.span.clone();
                run(socket, inbox, handler, admission).instrument(span)
            }
        })
    }
}

/// What a connection does with the messages its client sends.
pub trait Handler: Send {
    /// Handles one message; returns the answer to write back on this connection, if any.
    fn on_message(&mut self, message: Frame) -> impl Future<Output = Option<Message>> + Send;

    /// Called once when the connection stops serving, *before* the closing handshake is
    /// finished: a client that has seen its close acknowledged can rely on the server
    /// having already let go of it (e.g. a display's UUID is free again).
    fn on_end(&mut self) -> impl Future<Output = ()> + Send;

    /// The answer to `message`, dropped for going beyond `--rate-limit`, in this
    /// endpoint's own error shape (v1's `{"status":"error"}` unless it says otherwise).
    fn rate_limited(&self, message: &Frame, limit: RateLimit) -> Message {
        let _ = message;
        error_message(&ErrorReply::new(ErrorCode::RateLimited, rate_limited_message(limit)))
    }
}

/// What a client is told of a message dropped for going beyond `limit`.
pub fn rate_limited_message(limit: RateLimit) -> String {
    format!("too many messages (limit {limit} per second, rate/burst); this one was dropped")
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
    /// The client broke a rule or went silent: send this frame and drop the connection.
    Fail(CloseFrame),
}

/// Runs a connection until it ends. Returns once the socket is closed.
///
/// Written as a function returning an `async move` block, not an `async fn`: an async
/// fn keeps its by-value arguments twice in its state (rust-lang/rust#62958), which would
/// cost every connection several hundred bytes.
#[allow(clippy::manual_async_fn)]
fn run(
    mut socket: Socket,
    mut inbox: OutboxReader,
    mut handler: impl Handler + 'static,
    admission: Admission,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        tracing::debug!("connected");
        let counts = METRICS.connection(admission.kind);
        let sessions = &admission.sessions;
        let limits = &sessions.0.limits;
        // Boxed: most servers run without a rate limit, and an idle connection's future
        // would otherwise hold room for one.
        let rate_limiter: Option<Box<DefaultDirectRateLimiter>> = limits.rate_limit.map(|rate| {
            Box::new(RateLimiter::direct(
                Quota::per_second(rate.per_second).allow_burst(rate.burst),
            ))
        });
        let registered = sessions.0.registry.register(inbox.outbox(), &sessions.0.shutdown);

        let end = loop {
            tokio::select! {
                biased;
                outgoing = inbox.next() => match outgoing {
                    Outgoing::Message(message, receipt) => {
                        // Boxed, like every write below: a write's state, even written
                        // against the Sink methods, would enlarge every idle connection.
                        let write = write_queued(&mut socket, &mut inbox, message, receipt, limits.write_timeout, counts);
                        if Box::pin(write).await.is_err() {
                            break End::Gone;
                        }
                    }
                    Outgoing::Ping => {
                        if Box::pin(send(&mut socket, Message::Ping(Bytes::new()), limits.write_timeout)).await.is_err() {
                            break End::Gone;
                        }
                    }
                    // At shutdown this comes once what was queued before it is written.
                    Outgoing::Close(frame) => break End::Close(frame),
                    Outgoing::Fail(frame) => break End::Fail(frame),
                },
                incoming = socket.recv() => {
                    inbox.heard();
                    let message = match incoming {
                        None => break End::Gone,
                        Some(Err(err)) => match close_for_error(err) {
                            Some(frame) => break End::Fail(frame),
                            None => break End::Gone,
                        },
                        Some(Ok(Message::Text(text))) => Frame::Text(text),
                        Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes),
                        // Pings are answered by the WebSocket layer itself; reading yields
                        // whole messages, never raw frames.
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                        Some(Ok(Message::Close(_))) => break End::ClosedByClient,
                    };
                    counts.received.inc();
                    let limited = rate_limiter.as_ref().is_some_and(|limiter| limiter.check().is_err());
                    let answered = if let (true, Some(limit)) = (limited, limits.rate_limit) {
                        let reply = handler.rate_limited(&message, limit);
                        Box::pin(send(&mut socket, reply, limits.write_timeout)).await.map(|()| true)
                    } else {
                        // Boxed so that the handler's state does not enlarge every idle
                        // connection; one small allocation per message, for the answer too.
                        Box::pin(answer(&mut handler, &mut socket, message, limits.write_timeout)).await
                    };
                    match answered {
                        Ok(true) => {
                            counts.sent.inc();
                        }
                        Ok(false) => {}
                        Err(()) => break End::Gone,
                    }
                }
            }
        };
        drop(registered);
        // Boxed like `on_message`: an ending connection's clean-up (detaching, telling the
        // counterpart) would otherwise enlarge every idle connection's future.
        Box::pin(handler.on_end()).await;
        // Boxed: the closing path is cold, and inline it would enlarge every idle connection.
        Box::pin(finish(socket, end, limits.write_timeout)).await;
        tracing::debug!("disconnected");
        drop(admission);
    }
}

/// `future`'s output, or `None` if it takes longer than `limit`. The timer is set only
/// once the future has to wait: most writes complete at once, and a timer costs a wheel
/// entry to register and to remove. It is boxed, so that it does not enlarge the
/// connection's future.
async fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Handles `message` and writes the answer, if there is one; whether there was. One
/// future for both, so that a message costs one boxed future rather than two.
async fn answer(
    handler: &mut impl Handler,
    socket: &mut Socket,
    message: Frame,
    timeout: Duration,
) -> Result<bool, ()> {
    let Some(reply) = handler.on_message(message).await else {
        return Ok(false);
    };
    send(socket, reply, timeout).await.map(|()| true)
}

async fn send(socket: &mut Socket, message: Message, timeout: Duration) -> Result<(), ()> {
    let mut receipts = Vec::new();
    let mut written = 1;
    match within(timeout, write_batch(socket, None, message, &mut receipts, &mut written)).await {
        Some(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Writes `first` and whatever else is already queued, then flushes once; confirms the
/// receipts of what was flushed. On failure the receipts are dropped unconfirmed, and
/// their senders learn that those messages were not delivered.
async fn write_queued(
    socket: &mut Socket,
    inbox: &mut OutboxReader,
    first: Message,
    receipt: Option<outbox::Receipt>,
    timeout: Duration,
    counts: &ConnectionMetrics,
) -> Result<(), ()> {
    // The first receipt apart: a lone message, the usual case, allocates no list.
    let mut receipts: Vec<outbox::Receipt> = Vec::new();
    let mut written = 1;
    let write = write_batch(socket, Some(inbox), first, &mut receipts, &mut written);
    match within(timeout, write).await {
        Some(Ok(())) => {
            receipt.into_iter().chain(receipts).for_each(outbox::Receipt::confirm);
            counts.sent.inc_by(written);
            Ok(())
        }
        _ => Err(()),
    }
}

/// Writes `first` and, given the connection's `inbox`, what else is queued there (up to
/// [`WRITE_BATCH`] messages), then flushes once. The receipts of the messages taken
/// from the queue go to `receipts`, their number to `written`.
///
/// Written against the socket's `Sink` methods rather than with `feed(…).await` in a
/// loop, whose state took several hundred bytes: the boxed write is smaller to allocate
/// and to move.
fn write_batch<'a>(
    socket: &'a mut Socket,
    mut inbox: Option<&'a mut OutboxReader>,
    first: Message,
    receipts: &'a mut Vec<outbox::Receipt>,
    written: &'a mut u64,
) -> impl Future<Output = Result<(), tungstenite::Error>> + 'a {
    let mut pending = Some(first);
    let mut batch = 1;
    std::future::poll_fn(move |cx| {
        while let Some(message) = pending.take() {
            match Pin::new(&mut *socket).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    pending = Some(message);
                    return Poll::Pending;
                }
            }
            if let Err(err) = Pin::new(&mut *socket).start_send(message) {
                return Poll::Ready(Err(err));
            }
            if batch == WRITE_BATCH {
                break;
            }
            match inbox.as_deref_mut().and_then(OutboxReader::try_next) {
                Some(Outgoing::Message(message, receipt)) => {
                    receipts.extend(receipt);
                    *written += 1;
                    pending = Some(message);
                }
                // Taken from the queue like a message: sent with them.
                Some(Outgoing::Ping) => pending = Some(Message::Ping(Bytes::new())),
                // A close stays in the queue for the main loop to act on.
                _ => {}
            }
            batch += 1;
        }
        Pin::new(&mut *socket).poll_flush(cx)
    })
}

/// Sends the closing frame (if there is one to send) and waits briefly for the reply.
async fn finish(mut socket: Socket, end: End, timeout: Duration) {
    let (frame, await_reply) = match end {
        End::Gone => return,
        End::ClosedByClient => {
            // Sends the close reply the WebSocket layer queued.
            let _ = tokio::time::timeout(timeout, socket.flush()).await;
            return;
        }
        End::Close(frame) => (frame, true),
        End::Fail(frame) => (frame, false),
    };
    let code = u16::from(frame.code);
    tracing::debug!(code, reason = %frame.reason, "closing connection");
    METRICS.close(code);
    if send(&mut socket, Message::Close(Some(frame)), timeout).await.is_err() || !await_reply {
        return;
    }
    // Read until the client's close arrives (the stream then ends), discarding the rest.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async { while let Some(Ok(_)) = socket.recv().await {} }).await;
}

/// The close frame owed to a client whose traffic broke a rule, or `None` when the
/// connection is simply gone (reset, closed, I/O error).
fn close_for_error(err: tungstenite::Error) -> Option<CloseFrame> {
    use tungstenite::error::{CapacityError, Error, ProtocolError};
    let frame = match &err {
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => return None,
        Error::Capacity(CapacityError::MessageTooLong { .. }) => close_frame(close::MESSAGE_TOO_BIG),
        Error::Capacity(_) => close_frame(close::FRAME_TOO_BIG),
        Error::Protocol(_) => close_frame(close::PROTOCOL_ERROR),
        Error::Utf8(_) => close_frame(close::INVALID_PAYLOAD),
        _ => return None,
    };
    tracing::debug!(error = %err, code = u16::from(frame.code), "client broke the protocol");
    Some(frame)
}
