//! A connection's bounded outbound queue: any task may push, only the connection's own
//! task pops and writes to the socket.
//!
//! Written by hand rather than with `tokio::sync::mpsc` because of memory per idle
//! connection: tokio's bounded channel allocates a 32-slot block up front (over 1 KiB
//! per connection here), while this queue allocates nothing until the first message.
//! It also carries the close request (4001 replaced, 1013 slow consumer, 1001 going
//! away), which must get through even when the queue is full.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::{CloseFrame, Message};
use tokio::sync::Notify;

use super::{close_code, close_frame};

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The connection holds its limit of unsent messages: its client is not reading.
    #[error("the connection's outbound queue is full")]
    Full,
    /// The connection is closing or gone.
    #[error("the connection is closed")]
    Closed,
}

/// What the connection's task should do next.
#[derive(Debug, PartialEq)]
pub enum Outgoing {
    Message(Message),
    /// Send this close frame, then end the connection.
    Close(CloseFrame),
}

/// Creates a queue holding at most `capacity` unsent messages.
pub fn outbox(capacity: usize) -> (Outbox, Inbox) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            capacity,
            close: None,
            open: true,
        }),
        ready: Notify::new(),
    });
    (Outbox(shared.clone()), Inbox(shared))
}

/// The sending side; cheap to clone and kept by whoever routes messages to the connection.
#[derive(Debug, Clone)]
pub struct Outbox(Arc<Shared>);

/// The receiving side, owned by the connection's task. Dropping it closes the queue.
#[derive(Debug)]
pub struct Inbox(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    ready: Notify,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Message>,
    capacity: usize,
    /// Set once; the first close request wins.
    close: Option<CloseFrame>,
    /// False once a close was requested or the connection's task is gone.
    open: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only a queue of messages behind,
        // which is still consistent: keep using it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Outbox {
    /// Queues a message for the client, without waiting.
    ///
    /// The slow-consumer policy lives here, so that every sender applies it alike: a
    /// connection whose queue is full has a client that stopped reading, and is closed
    /// at once with 1013 (try again later) instead of letting its backlog grow.
    pub fn push(&self, message: Message) -> Result<(), PushError> {
        let mut state = self.0.lock();
        if !state.open {
            return Err(PushError::Closed);
        }
        if state.queue.len() >= state.capacity {
            tracing::warn!(
                queued = state.queue.len(),
                "closing a connection whose client stopped reading (outbound queue full)"
            );
            state.queue.clear();
            state.close = Some(close_frame(
                close_code::SLOW_CONSUMER,
                "slow consumer: outbound queue full",
            ));
            state.open = false;
            drop(state);
            self.0.ready.notify_one();
            return Err(PushError::Full);
        }
        state.queue.push_back(message);
        drop(state);
        self.0.ready.notify_one();
        Ok(())
    }

    /// Asks the connection to send what is already queued, then close with `frame`.
    /// Later pushes fail with [`PushError::Closed`].
    pub fn close(&self, frame: CloseFrame) {
        self.request_close(frame, false);
    }

    /// Asks the connection to close with `frame` at once, dropping what is queued.
    pub fn abort(&self, frame: CloseFrame) {
        self.request_close(frame, true);
    }

    fn request_close(&self, frame: CloseFrame, discard_queued: bool) {
        let mut state = self.0.lock();
        if discard_queued {
            state.queue.clear();
        }
        if state.close.is_none() {
            state.close = Some(frame);
        }
        state.open = false;
        drop(state);
        self.0.ready.notify_one();
    }

    /// Whether two handles reach the same connection.
    pub fn same_connection(&self, other: &Outbox) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Inbox {
    /// The next message to write, or the close to send once the queue is drained.
    /// Cancel-safe: nothing is taken from the queue unless this returns.
    pub async fn next(&mut self) -> Outgoing {
        loop {
            if let Some(outgoing) = self.try_next() {
                return outgoing;
            }
            self.0.ready.notified().await;
        }
    }

    /// Like [`Inbox::next`], without waiting.
    pub fn try_next(&mut self) -> Option<Outgoing> {
        let mut state = self.0.lock();
        if let Some(message) = state.queue.pop_front() {
            return Some(Outgoing::Message(message));
        }
        state.close.clone().map(Outgoing::Close)
    }

    /// A handle for routing messages to this connection.
    pub fn outbox(&self) -> Outbox {
        Outbox(self.0.clone())
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.open = false;
        state.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ws::Utf8Bytes;

    use super::*;

    fn text(s: &'static str) -> Message {
        Message::Text(Utf8Bytes::from_static(s))
    }

    fn close(code: u16) -> CloseFrame {
        CloseFrame {
            code,
            reason: Utf8Bytes::from_static("test"),
        }
    }

    #[tokio::test]
    async fn delivers_in_order_then_the_close() {
        let (outbox, mut inbox) = outbox(4);
        outbox.push(text("a")).unwrap();
        outbox.push(text("b")).unwrap();
        outbox.close(close(1001));
        assert_eq!(outbox.push(text("c")), Err(PushError::Closed));
        assert_eq!(inbox.next().await, Outgoing::Message(text("a")));
        assert_eq!(inbox.next().await, Outgoing::Message(text("b")));
        assert_eq!(inbox.next().await, Outgoing::Close(close(1001)));
    }

    #[tokio::test]
    async fn a_full_queue_closes_the_slow_connection_with_1013() {
        let (outbox, mut inbox) = outbox(2);
        outbox.push(text("a")).unwrap();
        outbox.push(text("b")).unwrap();
        assert_eq!(outbox.push(text("c")), Err(PushError::Full));
        assert_eq!(outbox.push(text("d")), Err(PushError::Closed));
        outbox.close(close(1001));
        match inbox.next().await {
            Outgoing::Close(frame) => assert_eq!(frame.code, 1013, "first close wins"),
            other => panic!("expected the close, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn abort_drops_what_is_queued() {
        let (outbox, mut inbox) = outbox(2);
        outbox.push(text("a")).unwrap();
        outbox.abort(close(4001));
        assert_eq!(inbox.next().await, Outgoing::Close(close(4001)));
    }

    #[tokio::test]
    async fn wakes_a_waiting_receiver() {
        let (outbox, mut inbox) = outbox(1);
        let waiter = tokio::spawn(async move { inbox.next().await });
        tokio::task::yield_now().await;
        outbox.push(text("late")).unwrap();
        assert_eq!(waiter.await.unwrap(), Outgoing::Message(text("late")));
    }

    #[test]
    fn pushing_to_a_dropped_connection_fails() {
        let (outbox, inbox) = outbox(1);
        drop(inbox);
        assert_eq!(outbox.push(text("x")), Err(PushError::Closed));
    }
}
