//! Pairing codes over HTTP: a display gets a short code (and a QR code of a join URL) to
//! show on its screen; a phone joins with the code instead of typing a UUID.
//!
//! - `POST /api/pairings/{uuid}/code`: the display's live code, or a new one.
//! - `GET /api/pairings/code/{code}`: the UUID it stands for.
//! - `GET /api/pairings/code/{code}/qr.svg`: a QR code of the join URL.
//! - `GET /ws/join/{code}`: connects a controller, exactly as `/ws/difficulty/android/{uuid}`.
//!
//! Lookups are limited per client address ([`GuessGuard`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Serialize;

use super::guesses::{GuessGuard, GuessLimit};
use crate::auth::{self, Scope, Token};
use crate::listener::OverTls;
use crate::protocol::pairing::PairingCode;
use crate::protocol::{DeviceId, ErrorCode, Role};
use crate::session::{Upgrade, refuse, refuse_unavailable};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/pairings/{uuid}/code", post(issue))
        .route("/api/pairings/code/{code}", get(lookup))
        .route("/api/pairings/code/{code}/qr.svg", get(qr))
        .route("/ws/join/{code}", get(join))
}

/// How codes are issued and looked up (`--code-ttl`, `--public-url`, `--code-guesses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePolicy {
    pub ttl: Duration,
    pub public_url: Option<PublicUrl>,
    pub guesses: GuessLimit,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(600),
            public_url: None,
            guesses: GuessLimit::default(),
        }
    }
}

/// What the code endpoints share.
#[derive(Debug)]
pub struct PairingCodes {
    policy: CodePolicy,
    guard: GuessGuard,
}

impl PairingCodes {
    pub fn new(policy: CodePolicy) -> Arc<Self> {
        Arc::new(Self {
            guard: GuessGuard::new(policy.guesses),
            policy,
        })
    }

    pub fn guard(&self) -> &GuessGuard {
        &self.guard
    }
}

/// The longest `--public-url`: join URLs must fit in a QR code a phone reads easily.
const MAX_PUBLIC_URL: usize = 512;

/// The base of join URLs in QR codes (`--public-url`), kept as a WebSocket URL: an
/// `http(s)://` base is turned into `ws(s)://`, so an app that scans the code can connect
/// to it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl std::str::FromStr for PublicUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("{s:?} is not a URL such as https://play.example.com"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(format!("the public URL must be http, https, ws or wss, not {other}")),
        };
        let rest = rest.trim_end_matches('/');
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || rest.contains(['?', '#', ' ']) || s.len() > MAX_PUBLIC_URL {
            return Err(format!(
                "{s:?} needs a host, no query, fragment or spaces, and at most {MAX_PUBLIC_URL} characters"
            ));
        }
        Ok(Self(format!("{scheme}://{rest}")))
    }
}

#[derive(Debug, Serialize)]
struct CodeBody {
    code: PairingCode,
    uuid: DeviceId,
    /// RFC 3339, UTC.
    expires_at: String,
}

#[derive(Debug, Serialize)]
struct LookupBody {
    code: PairingCode,
    uuid: DeviceId,
}

/// `POST /api/pairings/{uuid}/code`.
async fn issue(Path(uuid): Path<String>, State(app): State<AppState>, token: Token) -> Response {
    let device = match super::device_id(&uuid) {
        Ok(device) => device,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = auth::require(app.auth.as_ref(), &token, Scope::Side(device, Role::Display)) {
        return refusal;
    }
    match app.hub.pairing_code(device, app.codes.policy.ttl).await {
        Ok(issued) => Json(CodeBody {
            code: issued.code,
            uuid: issued.device,
            expires_at: humantime::format_rfc3339_seconds(issued.expires_at).to_string(),
        })
        .into_response(),
        Err(_) => refuse(
            StatusCode::CONFLICT,
            ErrorCode::DisplayOffline,
            "codes are issued to connected displays; connect the display for this UUID first".to_owned(),
        ),
    }
}

/// The UUID behind `code`, counting a miss against the client's address; or the 404/429
/// that answers the request.
#[allow(clippy::result_large_err)]
async fn resolve(app: &AppState, code: &str, client: SocketAddr) -> Result<(PairingCode, DeviceId), Response> {
    let attempt = match app.codes.guard.attempt(client.ip()) {
        Ok(attempt) => attempt,
        Err(retry_after) => {
            let seconds = retry_after.as_secs().max(1);
            let mut refusal = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyGuesses,
                format!("too many unknown codes from this address; retry in {seconds} s"),
            );
            refusal.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            return Err(refusal);
        }
    };
    let found = match code.parse::<PairingCode>() {
        Ok(code) => match app.hub.resolve_code(code).await {
            Ok(device) => device.map(|device| (code, device)),
            Err(unavailable) => {
                // Not the client's miss: it could not be looked up.
                attempt.hit();
                return Err(refuse_unavailable(&unavailable));
            }
        },
        Err(_) => None,
    };
    match found {
        Some(found) => {
            attempt.hit();
            Ok(found)
        }
        None => Err(refuse(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownCode,
            "no live pairing code is that one (it may have expired, or its display disconnected)".to_owned(),
        )),
    }
}

/// `GET /api/pairings/code/{code}`.
async fn lookup(
    Path(code): Path<String>,
    State(app): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
) -> Response {
    match resolve(&app, &code, client).await {
        Ok((code, uuid)) => Json(LookupBody { code, uuid }).into_response(),
        Err(refusal) => refusal,
    }
}

/// `GET /api/pairings/code/{code}/qr.svg`: the join URL as a QR code.
async fn qr(
    Path(code): Path<String>,
    State(app): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Extension(OverTls(over_tls)): Extension<OverTls>,
    headers: HeaderMap,
) -> Response {
    let code = match resolve(&app, &code, client).await {
        Ok((code, _)) => code,
        Err(refusal) => return refusal,
    };
    let url = join_url(app.codes.policy.public_url.as_ref(), &headers, over_tls, code);
    // The host and the public URL are length-limited, so the URL always fits.
    let svg = QrCode::new(url.as_bytes())
        .expect("a join URL of at most ~800 bytes fits in a QR code")
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response()
}

/// `{base}/ws/join/{code}`, the base being `--public-url` or, without it, the host the
/// client itself used to reach this server, with `wss` if it came over TLS.
pub fn join_url(public_url: Option<&PublicUrl>, headers: &HeaderMap, over_tls: bool, code: PairingCode) -> String {
    let base = match public_url {
        Some(PublicUrl(base)) => base.clone(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
                .filter(|host| {
                    (1..=255).contains(&host.len())
                        && host
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
                })
                .unwrap_or("localhost:8080");
            let scheme = if over_tls { "wss" } else { "ws" };
            format!("{scheme}://{host}")
        }
    };
    format!("{base}/ws/join/{code}")
}

/// `GET /ws/join/{code}`: a controller joining by code.
async fn join(
    Path(code): Path<String>,
    State(app): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    upgrade: Upgrade,
) -> Response {
    match resolve(&app, &code, client).await {
        Ok((_, device)) => super::connect_controller(app, device, upgrade).await,
        Err(refusal) => refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_become_websocket_bases() {
        for (given, base) in [
            ("https://play.example.com/", "wss://play.example.com"),
            ("http://10.0.0.5:8080", "ws://10.0.0.5:8080"),
            ("wss://example.com/pairlink", "wss://example.com/pairlink"),
            ("WS://example.com", "ws://example.com"),
        ] {
            assert_eq!(given.parse::<PublicUrl>(), Ok(PublicUrl(base.to_owned())));
        }
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://",
            "https://x.com/?a=1",
            "https://x.com/#f",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn without_a_public_url_the_join_url_uses_the_clients_host() {
        let code: PairingCode = "K7M2QX".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "192.168.1.20:8080".parse().unwrap());
        assert_eq!(
            join_url(None, &headers, false, code),
            "ws://192.168.1.20:8080/ws/join/K7M2QX"
        );
        assert_eq!(
            join_url(None, &headers, true, code),
            "wss://192.168.1.20:8080/ws/join/K7M2QX"
        );
        headers.insert(header::HOST, "evil\"host".parse().unwrap());
        assert_eq!(
            join_url(None, &headers, false, code),
            "ws://localhost:8080/ws/join/K7M2QX"
        );
        let public: PublicUrl = "https://play.example.com".parse().unwrap();
        assert_eq!(
            join_url(Some(&public), &headers, false, code),
            "wss://play.example.com/ws/join/K7M2QX"
        );
    }
}
