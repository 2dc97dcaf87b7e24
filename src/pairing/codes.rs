//! Pairing codes over HTTP: a display gets a short code (and a QR code of a join URL) to
//! show on its screen; a phone joins with the code instead of typing a UUID.
//!
//! - `POST /api/pairings/{uuid}/code`: the display's live code, or a new one.
//! - `GET /api/pairings/code/{code}`: the UUID it stands for.
//! - `GET /api/pairings/code/{code}/qr.svg`: a QR code of the join URL.
//! - `GET /ws/join/{code}`: connects a controller, exactly as `/ws/difficulty/android/{uuid}`.
//!
//! Lookups are limited per client address, across nodes
//! ([`crate::backplane::guesses`]).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Serialize;

use crate::auth::{self, Scope, Token};
use crate::config::PublicUrl;
use crate::listener::OverTls;
use crate::metrics::METRICS;
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
    match app.hub.pairing_code(device, app.code_policy.ttl).await {
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
    let backplane = app.hub.backplane();
    let attempt = match backplane.attempt_guess(client.ip()).await {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(retry_after)) => {
            let seconds = retry_after.as_secs().max(1);
            let mut refusal = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyGuesses,
                format!("too many unknown codes from this address; retry in {seconds} s"),
            );
            refusal.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            return Err(refusal);
        }
        Err(unavailable) => return Err(refuse_unavailable(&unavailable)),
    };
    let found = match code.parse::<PairingCode>() {
        Ok(code) => match app.hub.resolve_code(code).await {
            Ok(device) => device.map(|device| (code, device)),
            Err(unavailable) => {
                // Not the client's miss: it could not be looked up.
                backplane.give_back_guess(attempt).await;
                return Err(refuse_unavailable(&unavailable));
            }
        },
        Err(_) => None,
    };
    match found {
        Some(found) => {
            backplane.give_back_guess(attempt).await;
            Ok(found)
        }
        None => {
            METRICS.code_misses.inc();
            Err(refuse(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownCode,
                "no live pairing code is that one (it may have expired, or its display disconnected)".to_owned(),
            ))
        }
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
    let url = join_url(app.code_policy.public_url.as_ref(), &headers, over_tls, code);
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
        Some(public) => public.as_str().to_owned(),
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
