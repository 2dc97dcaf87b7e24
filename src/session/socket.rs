//! A connection's WebSocket: tungstenite's protocol over the TCP (or TLS) stream that
//! hyper upgraded, read and written from the connection's own task.
//!
//! Written here rather than taken from tokio-tungstenite (through axum's socket), for
//! the cost of a message. tokio-tungstenite lets any task read and any other write, so
//! it wakes through two proxy wakers and re-registers them on every call; axum's socket
//! adds a conversion of every message and hyper's boxed, rewindable stream. A pairlink
//! socket has one task, whose waker goes straight to the stream. With the readiness check
//! below, a round trip takes about 1,900 fewer instructions (docs/benchmarks.md). The
//! protocol itself (framing, masking, UTF-8, limits, pings and the closing handshake)
//! stays tungstenite's.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_util::{Sink, Stream};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tungstenite::error::Error;
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Bytes, Message};

/// One end of a WebSocket connection, used by one task.
#[derive(Debug)]
pub struct Socket {
    inner: WebSocket<Io>,
    /// The stream has ended or failed: it yields nothing more.
    ended: bool,
    /// False while a write waits for the socket to take the bytes buffered before it.
    ready: bool,
    /// tungstenite may hold bytes it has read but not parsed yet. While it may not, a
    /// read waits for the stream to be readable first: a connection's task is woken for
    /// its outbox far more often than for its client, and a read through tungstenite
    /// that finds nothing costs several times a readiness check, plus a system call.
    buffered: bool,
    /// At most the bytes of the frames of every message returned so far (see
    /// [`frame_bytes`]). Equal to all the bytes read, it proves tungstenite holds none.
    parsed: u64,
}

/// The fewest bytes the frames of `message`, as a client sends it, can take: one masked
/// frame with the shortest length field. A message in several frames takes more, so a
/// sum of these never exceeds the bytes the messages really took.
fn frame_bytes(message: &Message) -> u64 {
    let payload = match message {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) | Message::Ping(bytes) | Message::Pong(bytes) => bytes.len(),
        Message::Close(Some(frame)) => 2 + frame.reason.len(),
        Message::Close(None) => 0,
        Message::Frame(frame) => frame.payload().len(),
    };
    let length_field = match payload {
        0..126 => 0,
        126..65_536 => 2,
        _ => 8,
    };
    (2 + length_field + 4 + payload) as u64
}

impl Socket {
    /// The server's end of the connection hyper has upgraded; bytes hyper had already
    /// read past the handshake (a client may send its first frame right behind it) are
    /// read first.
    pub fn new(upgraded: Upgraded, config: WebSocketConfig) -> Self {
        let (stream, read) = Transport::of(upgraded);
        let io = Io {
            stream,
            waker: Waker::noop().clone(),
            write_blocked: false,
            received: read.len() as u64,
        };
        let inner = if read.is_empty() {
            WebSocket::from_raw_socket(io, Role::Server, Some(config))
        } else {
            WebSocket::from_partially_read(io, read.to_vec(), Role::Server, Some(config))
        };
        Self {
            inner,
            ended: false,
            ready: true,
            buffered: true,
            parsed: 0,
        }
    }

    /// The next message from the client; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Runs `operation` on the protocol with the task's waker at the stream, so that a
    /// read or write that cannot complete now wakes this task when it can.
    fn with<R>(&mut self, cx: &Context<'_>, operation: impl FnOnce(&mut WebSocket<Io>) -> R) -> R {
        let io = self.inner.get_mut();
        if !io.waker.will_wake(cx.waker()) {
            io.waker = cx.waker().clone();
        }
        operation(&mut self.inner)
    }
}

/// A result of tungstenite's, with "the stream would block" as `Pending`.
fn pending_on_would_block<T>(result: Result<T, Error>) -> Poll<Result<T, Error>> {
    match result {
        Err(Error::Io(err)) if err.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
        other => Poll::Ready(other),
    }
}

impl Stream for Socket {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if !self.buffered {
            if let Err(err) = std::task::ready!(self.inner.get_ref().poll_read_ready(cx)) {
                self.ended = true;
                return Poll::Ready(Some(Err(Error::Io(err))));
            }
        }
        let Poll::Ready(read) = pending_on_would_block(self.with(cx, WebSocket::read)) else {
            // tungstenite has parsed all it could, and the stream has no more for now.
            self.buffered = false;
            return Poll::Pending;
        };
        match read {
            Ok(message) => {
                self.parsed += frame_bytes(&message);
                // tungstenite writes the pong it owes for a ping on its next call: that
                // next read must come whether or not the client sends more.
                let owes_pong = matches!(message, Message::Ping(_));
                self.buffered = owes_pong || self.parsed != self.inner.get_ref().received;
                Poll::Ready(Some(Ok(message)))
            }
            Err(err) => {
                self.ended = true;
                match err {
                    Error::ConnectionClosed | Error::AlreadyClosed => Poll::Ready(None),
                    err => Poll::Ready(Some(Err(err))),
                }
            }
        }
    }
}

impl Sink<Message> for Socket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.ready {
            return Poll::Ready(Ok(()));
        }
        let flushed = std::task::ready!(pending_on_would_block(self.with(cx, WebSocket::flush)));
        self.ready = true;
        Poll::Ready(flushed)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        // The task's waker is already at the stream: every write follows a `poll_ready`.
        match self.inner.write(message) {
            Ok(()) => Ok(()),
            // Buffered, but the socket did not take it all: `poll_ready` flushes the rest.
            Err(Error::Io(err)) if err.kind() == io::ErrorKind::WouldBlock => {
                self.ready = false;
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let flushed = std::task::ready!(pending_on_would_block(self.with(cx, WebSocket::flush)));
        self.ready = true;
        Poll::Ready(match flushed {
            // The closing handshake has just completed: everything is written.
            Err(Error::ConnectionClosed) => Ok(()),
            other => other,
        })
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.ready = true;
        match std::task::ready!(pending_on_would_block(self.with(cx, |ws| ws.close(None)))) {
            Ok(()) | Err(Error::ConnectionClosed) => Poll::Ready(Ok(())),
            Err(err) => Poll::Ready(Err(err)),
        }
    }
}

/// The byte stream under a socket, as the blocking-style `Read` and `Write` tungstenite
/// takes: an operation that cannot complete returns `WouldBlock` and has registered
/// `waker`, the socket's task, to be woken when it can.
#[derive(Debug)]
struct Io {
    stream: Transport,
    waker: Waker,
    /// A write could not complete: tungstenite's next read must run, whatever the
    /// stream's readiness for reading, to finish it (a pong, a close reply).
    write_blocked: bool,
    /// Bytes read from the stream (and from hyper, past the handshake) so far.
    received: u64,
}

impl Io {
    /// Ready when a read may find bytes: a plain TCP stream that the kernel reports
    /// readable, or always for the other streams, whose own buffers (TLS records) the
    /// kernel knows nothing of. Registers `cx` to be woken when the TCP stream is.
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.stream {
            Transport::Tcp(tcp) if !self.write_blocked => tcp.poll_read_ready(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// What hyper upgraded: the accept loop's plain TCP or TLS stream, or (never in
/// practice, but hyper's type allows it) something else it hands over boxed.
#[derive(Debug)]
enum Transport {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Other(TokioIo<Upgraded>),
}

impl Transport {
    /// The stream and the bytes hyper read past the handshake.
    fn of(upgraded: Upgraded) -> (Self, Bytes) {
        let upgraded = match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => return (Transport::Tcp(parts.io.into_inner()), parts.read_buf),
            Err(upgraded) => upgraded,
        };
        match upgraded.downcast::<TokioIo<TlsStream<TcpStream>>>() {
            Ok(parts) => (Transport::Tls(Box::new(parts.io.into_inner())), parts.read_buf),
            Err(upgraded) => (Transport::Other(TokioIo::new(upgraded)), Bytes::new()),
        }
    }
}

/// Calls `$method` on whichever stream this is.
macro_rules! each_stream {
    ($stream:expr, $method:ident($($arg:expr),*)) => {
        match $stream {
            Transport::Tcp(tcp) => Pin::new(tcp).$method($($arg),*),
            Transport::Tls(tls) => Pin::new(&mut **tls).$method($($arg),*),
            Transport::Other(other) => Pin::new(other).$method($($arg),*),
        }
    };
}

/// `Poll` as the blocking-style result: `Pending` is `WouldBlock`.
fn would_block<T>(poll: Poll<io::Result<T>>) -> io::Result<T> {
    match poll {
        Poll::Ready(result) => result,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut cx = Context::from_waker(&self.waker);
        let mut buf = ReadBuf::new(buf);
        would_block(each_stream!(&mut self.stream, poll_read(&mut cx, &mut buf)))?;
        let read = buf.filled().len();
        self.received += read as u64;
        Ok(read)
    }
}

impl Write for Io {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut cx = Context::from_waker(&self.waker);
        let written = each_stream!(&mut self.stream, poll_write(&mut cx, buf));
        self.write_blocked = written.is_pending();
        would_block(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut cx = Context::from_waker(&self.waker);
        let flushed = each_stream!(&mut self.stream, poll_flush(&mut cx));
        self.write_blocked = flushed.is_pending();
        would_block(flushed)
    }
}
