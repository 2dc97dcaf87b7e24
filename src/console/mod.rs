//! The web console at `/`: a page to try pairing, rooms and signaling from a browser
//! and to watch the server's numbers (`GET /api/stats`); and the phone controller at
//! `/join/{code}`, which a phone opens from a display's QR code.
//!
//! The pages are plain HTML, CSS and ES modules in `src/console/assets/`, compiled into
//! the binary with `include_str!`: no build step, no separate web server, and nothing
//! fetched from the internet, so they work on a LAN without one. The pairing pages use
//! the JavaScript SDK, committed here as one built file (`pairlink-client.js`, made by
//! `npm run build:console` in `clients/js`), so that building pairlink needs no npm.
//! `docs/console.md` says what each panel does.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/console/{file}", get(asset))
        .route("/join/{code}", get(join_page))
}

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");

/// The phone controller, the same page for every code: it reads the code from its path.
const JOIN: Asset = asset!("join.html", "text/html; charset=utf-8");

/// What `/console/{file}` serves; anything else is 404.
const ASSETS: [Asset; 12] = [
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("ui.js", JS),
    asset!("pair.js", JS),
    asset!("rooms.js", JS),
    asset!("signal.js", JS),
    asset!("status.js", JS),
    asset!("pair-side.js", JS),
    asset!("pairlink-client.js", JS),
    asset!("join.js", JS),
    asset!("join.css", "text/css; charset=utf-8"),
];

/// Only this server's own files and WebSockets: messages shown on the page come from
/// other people's devices, so the page must not be able to load or run anything else
/// even if one slipped into the DOM. `blob:` images are the pairing code's QR code,
/// which the SDK fetches as PNG bytes and the page shows from memory.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

/// `/join/{code}`: any code gets the page; whether the code is live is for the server
/// to say when the page joins with it (4404 `unknown_code`), like every other client.
async fn join_page(Path(_code): Path<String>, headers: HeaderMap) -> Response {
    serve(&JOIN, &headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|asset| asset.name == file) {
        Some(asset) => serve(asset, &headers),
        None => (StatusCode::NOT_FOUND, "no such console file").into_response(),
    }
}

/// Answers with the file, or 304 when the browser's copy is current. The files change
/// only with the binary: `no-cache` makes the browser ask each time (one cheap 304),
/// so a new version of pairlink is never shown with an old script.
fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", fnv1a(asset.body.as_bytes()));
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// FNV-1a: a stable fingerprint of a file for its `ETag` (not a security measure).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_page_imports_is_served() {
        let sources = ASSETS.iter().chain([&INDEX, &JOIN]).map(|asset| asset.body);
        for source in sources {
            for (at, _) in source.match_indices("/console/") {
                let rest = &source[at + "/console/".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                    .collect();
                assert!(
                    ASSETS.iter().any(|asset| asset.name == name),
                    "/console/{name} is referenced but not embedded"
                );
            }
        }
    }

    #[test]
    fn nothing_is_loaded_from_another_host() {
        // The only absolute URLs allowed are XML namespaces, which are names, not fetches.
        for asset in ASSETS.iter().chain([&INDEX, &JOIN]) {
            for (at, _) in asset.body.match_indices("://") {
                let url = &asset.body[at.saturating_sub(4)..];
                assert!(
                    url.starts_with("http://www.w3.org/"),
                    "{} refers to {}",
                    asset.name,
                    &url[..url.len().min(60)]
                );
            }
        }
    }

    #[test]
    fn the_fingerprint_is_fnv1a() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
