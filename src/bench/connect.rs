//! Reaching the server under test: its `ws://` URL, opening a display and its controller
//! as a pair, many pairs at a time, and the open-file limit that bounds how many.
//!
//! Displays and controllers may connect to different servers (`--controller-url`): two
//! nodes of a cluster, so that every message of a pair crosses from one node to the other.
//! Pairs speak v1 (the seed's protocol), or v2 when the bench needs it (`bench relay`):
//! they then offer `pairlink.v2` and are ready once [`greet`](super::greet) is done.
//!
//! Clients on loopback spread their sockets over several source addresses (127.0.0.1,
//! 127.0.0.2, …): each source address has its own range of ephemeral ports, so tens of
//! thousands of connections (and the TIME_WAIT sockets earlier runs left) fit.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, handshake::client::Request};
use uuid::Uuid;

use super::report::{self, Errors};
use super::{greet, progress};
use crate::protocol::v2::{self, SUBPROTOCOL};
use crate::protocol::{DeviceId, Role, Version};

/// One WebSocket connection to the server under test.
pub type Ws = WebSocketStream<TcpStream>;

/// Source addresses used on loopback; each brings its own ephemeral port range.
const LOOPBACK_SOURCES: u8 = 16;
/// How long one TCP connect plus WebSocket handshake (v2: and the welcome) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Times a controller refused with HTTP 400 (v2: in-band `display_offline`) tries again.
/// A server that registers its display only after the 101 has gone out (the seed does)
/// may refuse a controller that follows at once; a real phone would try again too.
pub const CONTROLLER_RETRIES: u32 = 5;
/// The pause before the first retry, growing linearly.
const RETRY_DELAY: Duration = Duration::from_millis(10);
/// How long saying goodbye to the server may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// The client's read buffer. Messages are tens of bytes; tungstenite's default (128 KiB,
/// allocated up front) would cost gigabytes across ten thousand idle pairs.
const READ_BUFFER_BYTES: usize = 4096;
/// Files the bench itself needs besides its sockets (stdio, the runtime, the progress bar).
const RESERVED_FILES: u64 = 64;

/// The server's base URL, `ws://HOST[:PORT][/PREFIX]`; endpoints are appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    host: String,
    port: u16,
    /// Empty, or a path starting with `/` and not ending with one.
    prefix: String,
}

/// Why a `--url` was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidUrl {
    #[error("'{0}' is not a URL like ws://127.0.0.1:8080")]
    Unreadable(String),
    #[error("'{0}' must start with ws:// (the bench speaks plain WebSocket, without TLS)")]
    Scheme(String),
    #[error("'{0}' must not carry a query or fragment")]
    Query(String),
}

impl FromStr for ServerUrl {
    type Err = InvalidUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let uri: Uri = s.parse().map_err(|_| InvalidUrl::Unreadable(s.to_owned()))?;
        if uri.scheme_str() != Some("ws") {
            return Err(InvalidUrl::Scheme(s.to_owned()));
        }
        let host = uri.host().filter(|host| !host.is_empty());
        let Some(host) = host else {
            return Err(InvalidUrl::Unreadable(s.to_owned()));
        };
        if uri.query().is_some() || s.contains('#') {
            return Err(InvalidUrl::Query(s.to_owned()));
        }
        Ok(Self {
            // `Uri` keeps IPv6 brackets in the host; the resolver wants them off.
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: uri.port_u16().unwrap_or(80),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "ws://[{}]:{}{}", self.host, self.port, self.prefix)
        } else {
            write!(f, "ws://{}:{}{}", self.host, self.port, self.prefix)
        }
    }
}

impl ServerUrl {
    /// The pairing endpoint of `role` for `device`.
    fn endpoint(&self, role: Role, device: DeviceId) -> String {
        let side = match role {
            Role::Display => "unity",
            Role::Controller => "android",
        };
        format!("{self}/ws/difficulty/{side}/{device}")
    }

    /// The handshake for `role`'s endpoint, offering `pairlink.v2` in v2.
    fn request(&self, role: Role, device: DeviceId, version: Version) -> Request {
        let mut request = self
            .endpoint(role, device)
            .into_client_request()
            .expect("a ServerUrl makes valid request URIs");
        if version == Version::V2 {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
        }
        request
    }
}

/// Why a pair could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to {addr}: {source}")]
    Tcp { addr: SocketAddr, source: io::Error },
    #[error("the server refused the {role} with HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Refused { role: Role, status: u16, body: String },
    #[error("the {role}'s WebSocket handshake failed: {source}")]
    Handshake { role: Role, source: tungstenite::Error },
    #[error("the {role} was not connected after {CONNECT_TIMEOUT:?}")]
    Timeout { role: Role },
    #[error("the server refused the {role} in-band with {code}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    RefusedInBand { role: Role, code: String, message: String },
    #[error("the {role}'s v2 greeting went wrong: {problem}")]
    Greeting { role: Role, problem: String },
}

impl ConnectError {
    /// The display was not there yet: worth a controller's retry.
    fn display_offline(&self) -> bool {
        match self {
            ConnectError::Refused { status, .. } => *status == 400,
            ConnectError::RefusedInBand { code, .. } => code == "display_offline",
            _ => false,
        }
    }
}

/// A display and its controller, connected in that order (v2: both welcomed, and the
/// display told of its controller).
pub struct Pair {
    pub display: Ws,
    pub controller: Ws,
    /// Times the controller was refused before it got in (see [`CONTROLLER_RETRIES`]).
    pub controller_retries: u32,
}

/// Opens pairs: each display on one server and its controller on the same or another.
#[derive(Debug)]
pub struct Connector {
    display: Endpoint,
    /// `None`: controllers connect where displays do.
    controller: Option<Endpoint>,
    version: Version,
}

/// One resolved server.
#[derive(Debug)]
struct Endpoint {
    url: ServerUrl,
    addr: SocketAddr,
    /// Local addresses to bind before connecting; empty: let the kernel choose.
    sources: Vec<IpAddr>,
}

impl Connector {
    /// Resolves the servers' hosts once, up front: displays connect to `url`, controllers
    /// to `controller_url` when given. The pairs speak v1 unless [`Connector::speaking`].
    pub async fn resolve(url: &ServerUrl, controller_url: Option<&ServerUrl>) -> anyhow::Result<Self> {
        let controller = match controller_url {
            Some(controller_url) => Some(Endpoint::resolve(controller_url).await?),
            None => None,
        };
        Ok(Self {
            display: Endpoint::resolve(url).await?,
            controller,
            version: Version::V1,
        })
    }

    /// The pairs open speaking `version`.
    pub fn speaking(self, version: Version) -> Self {
        Self { version, ..self }
    }

    /// Where displays connect.
    pub fn url(&self) -> &ServerUrl {
        &self.display.url
    }

    /// Where controllers connect, when that is not [`Connector::url`].
    pub fn controller_url(&self) -> Option<&ServerUrl> {
        self.controller.as_ref().map(|endpoint| &endpoint.url)
    }

    /// The servers, for messages: `URL`, or `URL (controllers on URL)`.
    pub fn describe(&self) -> String {
        let controller_url = self.controller_url().map(ToString::to_string);
        report::servers(&self.url().to_string(), controller_url.as_deref())
    }

    /// Opens the `index`-th pair under a fresh UUID: the display, then its controller.
    pub async fn open_pair(&self, index: usize) -> Result<Pair, ConnectError> {
        let device = DeviceId::new(Uuid::new_v4());
        let (mut display, welcome) = self
            .display
            .open(2 * index, Role::Display, device, self.version)
            .await?;
        let controller_endpoint = self.controller.as_ref().unwrap_or(&self.display);
        let mut controller_retries = 0;
        let (controller, _) = loop {
            match controller_endpoint
                .open(2 * index + 1, Role::Controller, device, self.version)
                .await
            {
                Err(err) if err.display_offline() && controller_retries < CONTROLLER_RETRIES => {
                    controller_retries += 1;
                    tokio::time::sleep(RETRY_DELAY * controller_retries).await;
                }
                result => break result?,
            }
        };
        if let Some(welcome) = welcome {
            tokio::time::timeout(CONNECT_TIMEOUT, greet::controller_arrived(&mut display, &welcome))
                .await
                .unwrap_or(Err(ConnectError::Timeout { role: Role::Display }))?;
        }
        Ok(Pair {
            display,
            controller,
            controller_retries,
        })
    }
}

impl Endpoint {
    async fn resolve(url: &ServerUrl) -> anyhow::Result<Self> {
        let addr = tokio::net::lookup_host((url.host.as_str(), url.port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| anyhow::anyhow!("cannot resolve the host of {url}"))?;
        let sources = match addr.ip() {
            IpAddr::V4(ip) if ip.is_loopback() => (1..=LOOPBACK_SOURCES)
                .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            url: url.clone(),
            addr,
            sources,
        })
    }

    /// Connects `role` for `device`; in v2, reads its welcome too.
    async fn open(
        &self,
        index: usize,
        role: Role,
        device: DeviceId,
        version: Version,
    ) -> Result<(Ws, Option<v2::Welcome>), ConnectError> {
        let connect = async {
            let stream = self.tcp(index).await?;
            let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
            let request = self.url.request(role, device, version);
            let (mut ws, response) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(|err| match err {
                    tungstenite::Error::Http(response) => ConnectError::Refused {
                        role,
                        status: response.status().as_u16(),
                        body: String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
                    },
                    source => ConnectError::Handshake { role, source },
                })?;
            if version == Version::V1 {
                return Ok((ws, None));
            }
            let accepted = response.headers().get("sec-websocket-protocol");
            if accepted.is_none_or(|accepted| accepted != SUBPROTOCOL) {
                return Err(ConnectError::Greeting {
                    role,
                    problem: format!("the server did not accept the {SUBPROTOCOL} subprotocol"),
                });
            }
            let welcome = greet::welcome(&mut ws, role).await?;
            Ok((ws, Some(welcome)))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .unwrap_or(Err(ConnectError::Timeout { role }))
    }

    /// A TCP connection, from the `index`-th source address in turn when there are several.
    async fn tcp(&self, index: usize) -> Result<TcpStream, ConnectError> {
        let tcp_error = |source| ConnectError::Tcp {
            addr: self.addr,
            source,
        };
        let socket = match self.addr {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(tcp_error)?;
        if !self.sources.is_empty() {
            let source = self.sources[index % self.sources.len()];
            socket.bind(SocketAddr::new(source, 0)).map_err(tcp_error)?;
        }
        let stream = socket.connect(self.addr).await.map_err(tcp_error)?;
        // Requests are a few bytes each; waiting to coalesce them would be measured as latency.
        stream.set_nodelay(true).map_err(tcp_error)?;
        Ok(stream)
    }
}

/// Opens `count` pairs, at most `concurrency` handshakes at a time, with a progress bar
/// if asked. Returns the pairs that opened, with the others counted as connection
/// failures; fails only when none opened.
pub async fn open_pairs(
    connector: &Connector,
    count: usize,
    concurrency: usize,
    progress: bool,
) -> anyhow::Result<(Vec<Pair>, Errors)> {
    let bar = progress::counter(progress, count as u64, "opening pairs");
    let mut opened = Vec::with_capacity(count);
    let mut errors = Errors::default();
    let mut first_failure = None;
    let mut attempts = futures_util::stream::iter(0..count)
        .map(|index| connector.open_pair(index))
        .buffer_unordered(concurrency.max(1));
    while let Some(result) = attempts.next().await {
        match result {
            Ok(pair) => opened.push(pair),
            Err(err) => {
                errors.connection_failures += 1;
                errors.note(|| err.to_string());
                first_failure.get_or_insert(err);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    match first_failure {
        Some(err) if opened.is_empty() => anyhow::bail!("no pair could be opened on {}: {err}", connector.describe()),
        None if opened.is_empty() => anyhow::bail!("there are no pairs to open"),
        _ => Ok((opened, errors)),
    }
}

/// Says goodbye without waiting long for the server's answer.
pub async fn close(ws: &mut Ws) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(None)).await;
}

/// Raises this process's soft open-file limit to its hard limit and checks that
/// `pairs` pairs (two sockets each) fit under it.
pub fn ensure_file_limit(pairs: usize) -> anyhow::Result<()> {
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|err| anyhow::anyhow!("cannot read or raise the open-file limit: {err}"))?;
    let needed = 2 * pairs as u64 + RESERVED_FILES;
    if needed > limit {
        anyhow::bail!(
            "{pairs} pairs need {} sockets but this process may open only {limit} files \
             (the hard RLIMIT_NOFILE): use --pairs {} or fewer, or raise the hard limit",
            2 * pairs,
            limit.saturating_sub(RESERVED_FILES) / 2
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ws_urls_with_and_without_port_and_prefix() {
        let url: ServerUrl = "ws://127.0.0.1:18080".parse().unwrap();
        assert_eq!(url.to_string(), "ws://127.0.0.1:18080");
        let url: ServerUrl = "ws://example.com/".parse().unwrap();
        assert_eq!(url.to_string(), "ws://example.com:80");
        let url: ServerUrl = "ws://[::1]:9000/pairlink/".parse().unwrap();
        assert_eq!(url.to_string(), "ws://[::1]:9000/pairlink");
        let device: DeviceId = "de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap();
        assert_eq!(
            url.endpoint(Role::Controller, device),
            "ws://[::1]:9000/pairlink/ws/difficulty/android/de358130-e94a-5692-8b09-d27007ad1944"
        );
    }

    #[test]
    fn refuses_other_schemes_and_unreadable_urls() {
        assert!(matches!("wss://host".parse::<ServerUrl>(), Err(InvalidUrl::Scheme(_))));
        assert!(matches!(
            "http://host:1".parse::<ServerUrl>(),
            Err(InvalidUrl::Scheme(_))
        ));
        assert!("127.0.0.1:8080".parse::<ServerUrl>().is_err());
        assert!(matches!("ws://".parse::<ServerUrl>(), Err(InvalidUrl::Unreadable(_))));
        assert!(matches!("ws://h/?a=1".parse::<ServerUrl>(), Err(InvalidUrl::Query(_))));
    }
}
