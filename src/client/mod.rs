//! `pairlink client`: a terminal client for people testing their own apps against
//! pairlink, like wscat but speaking its protocols. It prints what arrives (JSON pretty
//! printed) on stdout, sends each line typed on stdin, says what it is doing on stderr,
//! and reconnects with exponential backoff and jitter when the connection drops (seed
//! 003's client), so a server restart is a pause, not the end of a session.
//!
//! Lines typed while disconnected wait (up to [`PENDING_LINES`]) and go out once the
//! client is connected again. End of input closes the connection cleanly and exits.

mod endpoint;

use std::time::Duration;

use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

pub use endpoint::Endpoint;

use crate::bench::connect::ServerUrl;
use crate::protocol::Version;
use crate::protocol::v2::SUBPROTOCOL;

/// Lines kept while the client is disconnected.
const PENDING_LINES: usize = 256;
/// How long to wait for the server's close reply after end of input.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Everything `pairlink client` needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub url: ServerUrl,
    pub endpoint: Endpoint,
    /// First reconnection delay; doubles per failed attempt up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// v2 (`pairlink.v2`) unless `--v1`, for testing apps that speak the seed's protocol.
    pub version: Version,
}

/// How one connection ended.
enum Ended {
    /// End of input: the client closed and is done.
    InputClosed,
    /// The connection was lost or closed by the server; try again.
    Lost(String),
    /// The server said not to come back (4001: another client took this place; a v2
    /// refusal that retrying cannot fix).
    Final(String),
}

/// Runs the client until end of input, or until the server refuses it for good.
pub async fn run(config: ClientConfig) -> anyhow::Result<()> {
    let (lines_tx, mut lines) = mpsc::channel::<String>(PENDING_LINES);
    tokio::spawn(read_stdin(lines_tx));
    let mut endpoint = config.endpoint.clone();
    let mut delay = config.retry_initial;
    let mut attempt = 1u32;
    loop {
        let url = format!("{}{}", config.url, endpoint.path());
        status(&format!("connecting to {url}"));
        let failure = match tokio_tungstenite::connect_async(request(&url, config.version)?).await {
            Ok((ws, _)) => {
                status("connected");
                delay = config.retry_initial;
                attempt = 1;
                match session(ws, &mut endpoint, config.version, &mut lines).await {
                    Ended::InputClosed => return Ok(()),
                    Ended::Final(reason) => bail!("{reason}"),
                    Ended::Lost(reason) => reason,
                }
            }
            Err(err) => match endpoint::refusal(&err) {
                endpoint::Refusal::Retry(reason) => reason,
                endpoint::Refusal::Final(reason) => bail!("the server refused {url}: {reason}"),
            },
        };
        if lines.is_closed() && lines.is_empty() {
            return Ok(());
        }
        // Full jitter over the upper half: clients dropped together do not return together.
        let wait = delay.mul_f64(rand::rng().random_range(0.5..=1.0));
        status(&format!(
            "{failure}; reconnecting in {:.1}s (attempt {attempt})",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(config.retry_max);
        attempt += 1;
    }
}

/// The handshake for `url`, offering `pairlink.v2` unless speaking v1.
fn request(url: &str, version: Version) -> anyhow::Result<tungstenite::handshake::client::Request> {
    let mut request = url.into_client_request()?;
    if version == Version::V2 {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    }
    Ok(request)
}

/// Stdin lines into the channel; the channel closes at end of input.
async fn read_stdin(lines: mpsc::Sender<String>) {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = stdin.next_line().await {
        if lines.send(line).await.is_err() {
            break;
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn session(mut ws: Ws, endpoint: &mut Endpoint, version: Version, lines: &mut mpsc::Receiver<String>) -> Ended {
    // A v2 connection may still be refused in-band: what is sent once waits for the welcome.
    let mut welcomed = version == Version::V1;
    if welcomed {
        if let Err(reason) = send_all(&mut ws, endpoint.on_connect(version)).await {
            return Ended::Lost(reason);
        }
    }
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => {
                    let Some(message) = endpoint.outgoing(&line, version) else { continue };
                    if let Err(err) = ws.send(Message::text(message)).await {
                        return Ended::Lost(format!("connection lost: {err}"));
                    }
                }
                None => {
                    close(ws, endpoint).await;
                    return Ended::InputClosed;
                }
            },
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    print_message(endpoint, text.as_str());
                    if !welcomed && text.as_str().starts_with(r#"{"type":"welcome""#) {
                        welcomed = true;
                        if let Err(reason) = send_all(&mut ws, endpoint.on_connect(version)).await {
                            return Ended::Lost(reason);
                        }
                    }
                }
                Some(Ok(Message::Binary(bytes))) => println!("<binary message, {} bytes>", bytes.len()),
                Some(Ok(Message::Close(frame))) => return closed_by_server(frame),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Ended::Lost(format!("connection lost: {err}")),
                None => return Ended::Lost("connection lost".to_owned()),
            },
        }
    }
}

async fn send_all(ws: &mut Ws, messages: Vec<String>) -> Result<(), String> {
    for message in messages {
        ws.send(Message::text(message))
            .await
            .map_err(|err| format!("connection lost: {err}"))?;
    }
    Ok(())
}

/// Closes after end of input, printing what still arrives before the server's reply.
async fn close(mut ws: Ws, endpoint: &mut Endpoint) {
    let _ = ws.send(Message::Close(None)).await;
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                print_message(endpoint, text.as_str());
            }
        }
    })
    .await;
    status("closed");
}

fn closed_by_server(frame: Option<CloseFrame>) -> Ended {
    let Some(frame) = frame else {
        return Ended::Lost("the server closed the connection".to_owned());
    };
    let code = u16::from(frame.code);
    let described = format!("the server closed the connection ({code} {})", frame.reason);
    if frame.code == CloseCode::Library(4001) {
        Ended::Final(format!(
            "{described}: another client connected in this one's place; not reconnecting"
        ))
    } else if endpoint::final_close(code, &frame.reason) {
        Ended::Final(format!("{described}: retrying cannot help; not reconnecting"))
    } else {
        Ended::Lost(described)
    }
}

fn print_message(endpoint: &mut Endpoint, text: &str) {
    endpoint.observe(text);
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| text.to_owned())
        ),
        Err(_) => println!("{text}"),
    }
}

/// Progress for the person at the terminal, on stderr so stdout stays the messages.
fn status(what: &str) {
    eprintln!("pairlink client: {what}");
}
