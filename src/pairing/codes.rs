//! Pairing codes over HTTP: a display gets a short code (and a QR code of a join URL) to
//! show on its screen; a phone joins with the code instead of typing a UUID.
//!
//! - `POST /api/pairings/{uuid}/code`: the display's live code, or a new one.
//! - `GET /api/pairings/code/{code}`: the UUID it stands for.
//! - `GET /api/pairings/code/{code}/qr.svg` and `…/qr.png`: a QR code of the join URL.
//! - `GET /ws/join/{code}`: connects a controller, exactly as `/ws/difficulty/android/{uuid}`.
//!
//! Lookups are limited per client address, across nodes
//! ([`crate::backplane::guesses`]).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrcode::render::svg;
use qrcode::{Color, QrCode};
use serde::Serialize;

use crate::auth::Token;
use crate::backplane::Unavailable;
use crate::config::PublicUrl;
use crate::hub::SendError;
use crate::listener::OverTls;
use crate::metrics::METRICS;
use crate::protocol::Version;
use crate::protocol::pairing::PairingCode;
use crate::protocol::{DeviceId, ErrorCode, Role};
use crate::session::Upgrade;
use crate::session::refusal::Refusal;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/pairings/{uuid}/code", post(issue))
        .route("/api/pairings/code/{code}", get(lookup))
        .route("/api/pairings/code/{code}/qr.svg", get(qr::<false>))
        .route("/api/pairings/code/{code}/qr.png", get(qr::<true>))
        .route("/ws/join/{code}", get(join))
}

#[derive(Debug, Serialize)]
struct CodeBody {
    code: PairingCode,
    uuid: DeviceId,
    /// RFC 3339, UTC.
    expires_at: String,
    /// What the QR code encodes: an app can show it, or connect to it as it is.
    join_url: String,
    /// `{http base}/join/{code}`: the phone controller page, what a phone's camera opens.
    page_url: String,
}

#[derive(Debug, Serialize)]
struct LookupBody {
    code: PairingCode,
    uuid: DeviceId,
}

/// `POST /api/pairings/{uuid}/code`.
async fn issue(
    Path(uuid): Path<String>,
    State(app): State<AppState>,
    token: Token,
    Extension(OverTls(over_tls)): Extension<OverTls>,
    headers: HeaderMap,
) -> Response {
    let device = match super::checked(&app, &uuid, &token, Role::Display) {
        Ok(device) => device,
        Err(refusal) => return refusal.into_http(),
    };
    match app.hub.pairing_code(device, app.code_policy.ttl).await {
        Ok(issued) => Json(CodeBody {
            code: issued.code,
            uuid: issued.device,
            expires_at: humantime::format_rfc3339_seconds(issued.expires_at).to_string(),
            join_url: join_url(app.code_policy.public_url.as_ref(), &headers, over_tls, issued.code),
            page_url: page_url(app.code_policy.public_url.as_ref(), &headers, over_tls, issued.code),
        })
        .into_response(),
        Err(err) => not_issued(err).into_http(),
    }
}

/// Why no code was issued: the display is not connected (409), or with `--redis-url`
/// Redis could not be asked (503, as every other refusal for that reason: retry).
fn not_issued(err: SendError) -> Refusal {
    match err {
        SendError::Unavailable => Refusal::from(&Unavailable("Redis cannot be reached".to_owned())),
        SendError::Offline | SendError::SlowConsumer => Refusal::new(
            StatusCode::CONFLICT,
            ErrorCode::DisplayOffline,
            "codes are issued to connected displays; connect the display for this UUID first",
        ),
    }
}

/// The UUID behind `code`, counting a miss against the client's address; or the 404/429
/// (4404/4429 in-band) that refuses the request.
async fn resolve(app: &AppState, code: &str, client: SocketAddr) -> Result<(PairingCode, DeviceId), Refusal> {
    let backplane = app.hub.backplane();
    let attempt = match backplane.attempt_guess(client.ip()).await {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(retry_after)) => {
            // Rounded up: a client that waits exactly this long finds its budget back.
            let seconds = (retry_after.as_millis().div_ceil(1000) as u64).max(1);
            return Err(Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyGuesses,
                format!("too many unknown codes from this address; retry in {seconds} s"),
            )
            .with_retry_after(seconds));
        }
        Err(unavailable) => return Err(Refusal::from(&unavailable)),
    };
    let found = match code.parse::<PairingCode>() {
        Ok(code) => match app.hub.resolve_code(code).await {
            Ok(device) => device.map(|device| (code, device)),
            Err(unavailable) => {
                // Not the client's miss: it could not be looked up.
                backplane.give_back_guess(attempt).await;
                return Err(Refusal::from(&unavailable));
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
            Err(Refusal::new(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownCode,
                "no live pairing code is that one (it may have expired, or its display disconnected)",
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
        Err(refusal) => refusal.into_http(),
    }
}

/// What a QR code holds (`?target=`): the `ws://` join URL an app connects to as it is
/// (the default, which existing apps rely on), or the phone page a camera opens.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Target {
    #[default]
    Ws,
    Page,
}

#[derive(Debug, Default, serde::Deserialize)]
struct QrQuery {
    #[serde(default)]
    target: Target,
}

/// `GET /api/pairings/code/{code}/qr.svg` (`PNG` false) and `…/qr.png` (`PNG` true):
/// the join URL as a QR code. The PNG is for apps that cannot draw SVG (Unity's
/// `Texture2D.LoadImage` reads PNG and JPEG).
async fn qr<const PNG: bool>(
    Path(code): Path<String>,
    query: Result<Query<QrQuery>, QueryRejection>,
    State(app): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Extension(OverTls(over_tls)): Extension<OverTls>,
    headers: HeaderMap,
) -> Response {
    let Ok(Query(QrQuery { target })) = query else {
        let refusal = Refusal::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidTarget,
            "target is ws (the join URL, the default) or page (the phone page)",
        );
        return refusal.into_http();
    };
    let qr = match join_qr(&app, &code, client, &headers, over_tls, target).await {
        Ok(qr) => qr,
        Err(refusal) => return refusal,
    };
    if PNG {
        return image("image/png", png(&qr));
    }
    let svg = qr
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    image("image/svg+xml", svg)
}

/// The QR code of `code`'s join URL, after the same guessing check as every lookup.
#[allow(clippy::result_large_err)]
async fn join_qr(
    app: &AppState,
    code: &str,
    client: SocketAddr,
    headers: &HeaderMap,
    over_tls: bool,
    target: Target,
) -> Result<QrCode, Response> {
    let (code, _) = resolve(app, code, client).await.map_err(Refusal::into_http)?;
    let public = app.code_policy.public_url.as_ref();
    let url = match target {
        Target::Ws => join_url(public, headers, over_tls, code),
        Target::Page => page_url(public, headers, over_tls, code),
    };
    // The host and the public URL are length-limited, so the URL always fits.
    Ok(QrCode::new(url.as_bytes()).expect("a join URL of at most ~800 bytes fits in a QR code"))
}

fn image(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Modules of blank margin around a QR code on each side, as the standard asks.
const QUIET_ZONE: usize = 4;
/// The smallest width of a PNG QR code, in pixels: each module is a whole number of
/// pixels, the fewest that reach this (a short join URL gives 37 modules of 7 pixels).
const PNG_MIN_PIXELS: usize = 256;

/// `qr` as an 8-bit greyscale PNG, not interlaced (what every decoder reads), with its
/// quiet zone.
fn png(qr: &QrCode) -> Vec<u8> {
    let modules = qr.width();
    let side = modules + 2 * QUIET_ZONE;
    let scale = PNG_MIN_PIXELS.div_ceil(side);
    let pixels_per_row = side * scale;
    let mut pixels = vec![255u8; pixels_per_row * pixels_per_row];
    for (i, color) in qr.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = ((i % modules + QUIET_ZONE) * scale, (i / modules + QUIET_ZONE) * scale);
            for row in y..y + scale {
                pixels[row * pixels_per_row + x..row * pixels_per_row + x + scale].fill(0);
            }
        }
    }
    let mut file = Vec::with_capacity(pixels.len() / 8);
    let width = u32::try_from(pixels_per_row).expect("a QR code is at most 177 modules wide");
    let mut encoder = png::Encoder::new(&mut file, width, width);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to memory cannot fail, and the data is exactly width × height bytes.
    let mut writer = encoder.write_header().expect("a PNG header writes to memory");
    writer
        .write_image_data(&pixels)
        .expect("the image data matches its size");
    writer.finish().expect("a PNG finishes in memory");
    file
}

/// `{base}/ws/join/{code}`, the base being `--public-url` or, without it, the host the
/// client itself used to reach this server, with `wss` if it came over TLS.
pub fn join_url(public_url: Option<&PublicUrl>, headers: &HeaderMap, over_tls: bool, code: PairingCode) -> String {
    format!("{}/ws/join/{code}", websocket_base(public_url, headers, over_tls))
}

/// `{http base}/join/{code}`: the same base over `http(s)`, to the phone controller page.
pub fn page_url(public_url: Option<&PublicUrl>, headers: &HeaderMap, over_tls: bool, code: PairingCode) -> String {
    let base = websocket_base(public_url, headers, over_tls);
    let base = match base.strip_prefix("wss://") {
        Some(rest) => format!("https://{rest}"),
        None => format!("http://{}", base.trim_start_matches("ws://")),
    };
    format!("{base}/join/{code}")
}

fn websocket_base(public_url: Option<&PublicUrl>, headers: &HeaderMap, over_tls: bool) -> String {
    match public_url {
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
    }
}

/// `GET /ws/join/{code}`: a controller joining by code. A v2 client is refused in-band.
async fn join(
    Path(code): Path<String>,
    State(app): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    version: Version,
    upgrade: Upgrade,
) -> Response {
    match resolve(&app, &code, client).await {
        Ok((_, device)) => super::connect_controller(app, device, version, upgrade).await,
        Err(refusal) => refusal.respond(version, upgrade),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_that_could_not_be_asked_for_is_503_not_offline() {
        let unavailable = not_issued(SendError::Unavailable);
        assert_eq!(
            (unavailable.status, unavailable.code),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::BrokerUnavailable)
        );
        for offline in [SendError::Offline, SendError::SlowConsumer] {
            let refusal = not_issued(offline);
            assert_eq!(
                (refusal.status, refusal.code),
                (StatusCode::CONFLICT, ErrorCode::DisplayOffline)
            );
        }
    }

    #[test]
    fn png_qr_codes_are_whole_pixels_per_module_with_a_quiet_zone() {
        let qr = QrCode::new(b"ws://192.168.1.20:8080/ws/join/K7M2QX").unwrap();
        let file = png(&qr);
        let mut reader = png::Decoder::new(std::io::Cursor::new(&file)).read_info().unwrap();
        let info = reader.info().clone();
        let side = qr.width() + 2 * QUIET_ZONE;
        assert_eq!(info.width as usize % side, 0);
        assert!((PNG_MIN_PIXELS..PNG_MIN_PIXELS + side).contains(&(info.width as usize)));
        assert_eq!(info.height, info.width);
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Grayscale, png::BitDepth::Eight)
        );
        assert!(!info.interlaced);
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        let scale = info.width as usize / side;
        let width = info.width as usize;
        // The quiet zone is white; the finder pattern's corner is black.
        assert!(pixels[..QUIET_ZONE * scale * width].iter().all(|&p| p == 255));
        assert_eq!(pixels[QUIET_ZONE * scale * width + QUIET_ZONE * scale], 0);
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
        assert_eq!(
            page_url(Some(&public), &headers, false, code),
            "https://play.example.com/join/K7M2QX"
        );
        headers.insert(header::HOST, "10.0.0.5:8080".parse().unwrap());
        assert_eq!(
            page_url(None, &headers, false, code),
            "http://10.0.0.5:8080/join/K7M2QX"
        );
    }
}
