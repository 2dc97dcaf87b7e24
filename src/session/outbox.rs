//! A connection's bounded outbound queue: any task may push, only the connection's own
//! task pops and writes to the socket.
//!
//! Written by hand rather than with `tokio::sync::mpsc` because of memory per idle
//! connection: tokio's bounded channel allocates a 32-slot block up front (over 1 KiB
//! per connection here), while this queue allocates nothing until the first message.
//! It also carries the close request (4001 replaced, 1013 slow consumer, 1001 going
//! away), which must get through even when the queue is full.
//!
//! A full queue alone does not prove a slow client: a sender can push a burst faster
//! than the connection's task gets the CPU. Point-to-point senders therefore use
//! [`Outbox::send`], which waits (with a bound) for room; only a queue that stays full
//! that long marks a slow consumer. Fan-out senders, which must not wait on one member,
//! use [`Outbox::push`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;

use super::close_frame;
use crate::protocol::close;

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
#[derive(Debug)]
pub enum Outgoing {
    /// Write this message; once it is flushed to the socket, confirm the receipt if any.
    Message(Message, Option<Receipt>),
    /// Send this close frame, then end the connection.
    Close(CloseFrame),
    /// Send a keepalive ping (asked for by the session registry).
    Ping,
    /// Send this close frame and drop the connection without waiting for the client's
    /// answer: it went silent.
    Fail(CloseFrame),
}

/// Confirms to a waiting sender that its message reached the client's socket. Dropped
/// unconfirmed (the write failed, the connection ended first), the sender learns that
/// its message was not delivered.
#[derive(Debug)]
pub struct Receipt(oneshot::Sender<()>);

impl Receipt {
    pub fn confirm(self) {
        let _ = self.0.send(());
    }
}

/// Creates a queue holding at most `capacity` unsent messages.
pub fn outbox(capacity: usize) -> (Outbox, OutboxReader) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            capacity,
            close: None,
            open: true,
            ping: false,
            fail: false,
            reader: None,
        }),
        heard: AtomicBool::new(false),
        room: Notify::new(),
    });
    (Outbox(shared.clone()), OutboxReader(shared))
}

/// The sending side; cheap to clone and kept by whoever routes messages to the connection.
#[derive(Debug, Clone)]
pub struct Outbox(Arc<Shared>);

/// The receiving side, owned by the connection's task. Dropping it closes the queue.
#[derive(Debug)]
pub struct OutboxReader(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Set by the connection's task whenever its client sends a frame, taken by the
    /// session registry when it checks for silent clients.
    heard: AtomicBool,
    /// Wakes senders waiting in [`Outbox::send`]: the queue has room again.
    room: Notify,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<(Message, Option<Receipt>)>,
    capacity: usize,
    /// Set once; the first close request wins.
    close: Option<CloseFrame>,
    /// False once a close was requested or the connection's task is gone.
    open: bool,
    /// A keepalive ping is to be sent.
    ping: bool,
    /// The close is for a silent client: no need to wait for its answer.
    fail: bool,
    /// The connection's task, waiting for something to write. Kept under the queue's
    /// own lock rather than in a `Notify`: the reader registers while it looks at the
    /// queue and a sender wakes it while it pushes, with no second lock or list.
    reader: Option<Waker>,
}

impl State {
    /// The reader to wake once the lock is released: something for it is waiting.
    fn wake_reader(&mut self) -> Option<Waker> {
        self.reader.take()
    }
}

/// Wakes the reader taken by [`State::wake_reader`]; call after releasing the lock.
fn wake(reader: Option<Waker>) {
    if let Some(reader) = reader {
        reader.wake();
    }
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
            drop(state);
            self.close_slow_consumer();
            return Err(PushError::Full);
        }
        state.queue.push_back((message, None));
        let reader = state.wake_reader();
        drop(state);
        wake(reader);
        Ok(())
    }

    /// Queues a message ahead of everything already queued, whatever the capacity: a
    /// connection's first message (a welcome) written once its connection is registered,
    /// so that nothing routed to it meanwhile can come first.
    pub fn push_front(&self, message: Message) -> Result<(), PushError> {
        let mut state = self.0.lock();
        if !state.open {
            return Err(PushError::Closed);
        }
        state.queue.push_front((message, None));
        let reader = state.wake_reader();
        drop(state);
        wake(reader);
        Ok(())
    }

    /// Delivers a message: queues it, waiting up to `patience` for room if the queue is
    /// full, then waits until the connection has flushed it to the client's socket.
    ///
    /// A queue that stays full for `patience` belongs to a client that stopped reading:
    /// it is closed with 1013 and this returns [`PushError::Full`]. A connection that ends
    /// before the message is written returns [`PushError::Closed`].
    pub async fn deliver(&self, message: Message, patience: Duration) -> Result<(), PushError> {
        let (receipt, delivered) = oneshot::channel();
        self.queue(message, Some(Receipt(receipt)), patience).await?;
        delivered.await.map_err(|_| PushError::Closed)
    }

    /// Queues a message, waiting up to `patience` for room like [`Outbox::deliver`], but
    /// not for the write.
    pub async fn enqueue(&self, message: Message, patience: Duration) -> Result<(), PushError> {
        self.queue(message, None, patience).await
    }

    async fn queue(&self, message: Message, receipt: Option<Receipt>, patience: Duration) -> Result<(), PushError> {
        let mut item = Some((message, receipt));
        if let Some(result) = self.try_enqueue(&mut item) {
            return result;
        }
        // Boxed: a full queue is rare, and the wait's timer and notification would
        // otherwise enlarge every sender's future, which is moved into a box per message.
        Box::pin(self.wait_for_room(item, patience)).await
    }

    /// Waits up to `patience` for room to queue `item`; the slow-consumer close after that.
    async fn wait_for_room(
        &self,
        mut item: Option<(Message, Option<Receipt>)>,
        patience: Duration,
    ) -> Result<(), PushError> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            // Registered before looking again, so a pop in between is not missed.
            let room = self.0.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if let Some(result) = self.try_enqueue(&mut item) {
                return result;
            }
            if tokio::time::timeout_at(deadline, room).await.is_err() {
                self.close_slow_consumer();
                return Err(PushError::Full);
            }
        }
    }

    /// Queues `item` if there is room: `None` when the queue is full.
    fn try_enqueue(&self, item: &mut Option<(Message, Option<Receipt>)>) -> Option<Result<(), PushError>> {
        let mut state = self.0.lock();
        if !state.open {
            return Some(Err(PushError::Closed));
        }
        if state.queue.len() >= state.capacity {
            return None;
        }
        state.queue.push_back(item.take().expect("queued once"));
        let reader = state.wake_reader();
        drop(state);
        wake(reader);
        Some(Ok(()))
    }

    fn close_slow_consumer(&self) {
        let mut state = self.0.lock();
        if !state.open {
            return;
        }
        tracing::warn!(
            queued = state.queue.len(),
            "closing a connection whose client stopped reading (outbound queue full)"
        );
        state.queue.clear();
        state.close = Some(close_frame(close::SLOW_CONSUMER));
        state.open = false;
        let reader = state.wake_reader();
        drop(state);
        wake(reader);
        self.0.room.notify_waiters();
    }

    /// Whether the connection still takes messages: no close was asked for and its task
    /// is alive. A sender can skip making an answer nobody would read.
    pub fn is_open(&self) -> bool {
        self.0.lock().open
    }

    /// Asks the connection to send what is already queued, then close with `frame`.
    /// Later pushes fail with [`PushError::Closed`].
    pub fn close(&self, frame: CloseFrame) {
        self.request_close(frame, false, false);
    }

    /// Asks the connection to close with `frame` at once, dropping what is queued.
    pub fn abort(&self, frame: CloseFrame) {
        self.request_close(frame, true, false);
    }

    /// Asks the connection to close with `frame` at once, dropping what is queued and
    /// without waiting for the client's answer: the client went silent.
    pub(super) fn fail(&self, frame: CloseFrame) {
        self.request_close(frame, true, true);
    }

    /// Asks the connection to send a keepalive ping.
    pub(super) fn ping(&self) {
        let mut state = self.0.lock();
        state.ping = true;
        let reader = state.wake_reader();
        drop(state);
        wake(reader);
    }

    /// Whether the client sent anything since the last call.
    pub(super) fn take_heard(&self) -> bool {
        // Read first: a store per tick only for connections that spoke.
        self.0.heard.load(Ordering::Relaxed) && self.0.heard.swap(false, Ordering::Relaxed)
    }

    fn request_close(&self, frame: CloseFrame, discard_queued: bool, fail: bool) {
        let mut state = self.0.lock();
        if discard_queued {
            state.queue.clear();
        }
        if state.close.is_none() {
            state.close = Some(frame);
            state.fail = fail;
        }
        state.open = false;
        let reader = state.wake_reader();
        drop(state);
        wake(reader);
        self.0.room.notify_waiters();
    }
}

impl OutboxReader {
    /// The next message to write, or the close to send once the queue is drained.
    /// Cancel-safe: nothing is taken from the queue unless this returns.
    pub async fn next(&mut self) -> Outgoing {
        std::future::poll_fn(|cx| match self.take_next(Some(cx)) {
            Some(outgoing) => Poll::Ready(outgoing),
            None => Poll::Pending,
        })
        .await
    }

    /// Like [`OutboxReader::next`], without waiting.
    pub fn try_next(&mut self) -> Option<Outgoing> {
        self.take_next(None)
    }

    /// The next thing to do, or `None`; then, given `cx`, its task is woken by the
    /// next push or close.
    fn take_next(&mut self, cx: Option<&mut Context<'_>>) -> Option<Outgoing> {
        let mut state = self.0.lock();
        if state.ping {
            state.ping = false;
            return Some(Outgoing::Ping);
        }
        if let Some((message, receipt)) = state.queue.pop_front() {
            let was_full = state.queue.len() + 1 == state.capacity;
            drop(state);
            if was_full {
                self.0.room.notify_waiters();
            }
            return Some(Outgoing::Message(message, receipt));
        }
        let fail = state.fail;
        let close = state
            .close
            .clone()
            .map(if fail { Outgoing::Fail } else { Outgoing::Close });
        if let (None, Some(cx)) = (&close, cx) {
            if !state.reader.as_ref().is_some_and(|reader| reader.will_wake(cx.waker())) {
                state.reader = Some(cx.waker().clone());
            }
        }
        close
    }

    /// Notes that the client sent a frame: it is alive.
    pub fn heard(&self) {
        // Read first: no cache-line write per frame once set.
        if !self.0.heard.load(Ordering::Relaxed) {
            self.0.heard.store(true, Ordering::Relaxed);
        }
    }

    /// A handle for routing messages to this connection.
    pub fn outbox(&self) -> Outbox {
        Outbox(self.0.clone())
    }
}

impl Drop for OutboxReader {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.open = false;
        state.queue.clear();
        // A waker keeps its task's allocation alive; senders may hold this queue longer.
        let reader = state.reader.take();
        drop(state);
        drop(reader);
        self.0.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use tungstenite::Utf8Bytes;

    use super::*;

    fn text(s: &'static str) -> Message {
        Message::Text(Utf8Bytes::from_static(s))
    }

    fn close(code: u16) -> CloseFrame {
        CloseFrame {
            code: code.into(),
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
        assert!(matches!(inbox.next().await, Outgoing::Message(m, None) if m == text("a")));
        assert!(matches!(inbox.next().await, Outgoing::Message(m, None) if m == text("b")));
        assert!(matches!(inbox.next().await, Outgoing::Close(f) if f == close(1001)));
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
            Outgoing::Close(frame) => assert_eq!(u16::from(frame.code), 1013, "first close wins"),
            other => panic!("expected the close, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn abort_drops_what_is_queued() {
        let (outbox, mut inbox) = outbox(2);
        outbox.push(text("a")).unwrap();
        outbox.abort(close(4001));
        assert!(matches!(inbox.next().await, Outgoing::Close(f) if f == close(4001)));
    }

    #[tokio::test]
    async fn wakes_a_waiting_receiver() {
        let (outbox, mut inbox) = outbox(1);
        let waiter = tokio::spawn(async move { inbox.next().await });
        tokio::task::yield_now().await;
        outbox.push(text("late")).unwrap();
        assert!(matches!(waiter.await.unwrap(), Outgoing::Message(m, None) if m == text("late")));
    }

    #[tokio::test(start_paused = true)]
    async fn delivery_waits_for_room_and_for_the_write() {
        let (outbox, mut inbox) = outbox(1);
        outbox.push(text("a")).unwrap();
        let sender = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.deliver(text("b"), Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(matches!(inbox.next().await, Outgoing::Message(m, None) if m == text("a")));
        let Outgoing::Message(b, Some(receipt)) = inbox.next().await else {
            panic!("b with a receipt")
        };
        assert_eq!(b, text("b"));
        assert!(!sender.is_finished(), "not delivered before it is written");
        receipt.confirm();
        assert_eq!(sender.await.unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn a_message_dropped_unwritten_is_not_delivered() {
        let (outbox, mut inbox) = outbox(1);
        let sender = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.deliver(text("lost"), Duration::from_secs(5)).await })
        };
        let Outgoing::Message(_, receipt) = inbox.next().await else {
            panic!("the message")
        };
        drop(receipt); // the write failed
        assert_eq!(sender.await.unwrap(), Err(PushError::Closed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_that_stays_full_closes_the_connection_after_the_patience() {
        let (outbox, mut inbox) = outbox(1);
        outbox.push(text("a")).unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(
            outbox.deliver(text("b"), Duration::from_secs(5)).await,
            Err(PushError::Full)
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        match inbox.next().await {
            Outgoing::Close(frame) => assert_eq!(u16::from(frame.code), 1013),
            other => panic!("expected the close, got {other:?}"),
        }
    }

    #[test]
    fn pushing_to_a_dropped_connection_fails() {
        let (outbox, inbox) = outbox(1);
        drop(inbox);
        assert_eq!(outbox.push(text("x")), Err(PushError::Closed));
    }
}
