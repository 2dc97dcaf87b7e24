//! The web console at `/`: a page to try pairing, rooms and signaling from a browser
//! and to watch the server's numbers (`GET /api/stats`).
//!
//! The page is plain HTML, CSS and ES modules in `src/console/assets/`, compiled into
//! the binary with `include_str!`: no build step, no separate web server, and nothing
//! fetched from the internet, so it works on a LAN without one. `docs/console.md` says
//! what each panel does.

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

/// What `/console/{file}` serves; anything else is 404.
const ASSETS: [Asset; 8] = [
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("ui.js", JS),
    asset!("pair.js", JS),
    asset!("rooms.js", JS),
    asset!("signal.js", JS),
    asset!("status.js", JS),
];

/// Only this server's own files and WebSockets: messages shown on the page come from
/// other people's devices, so the page must not be able to load or run anything else
/// even if one slipped into the DOM.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
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
        let sources = ASSETS.iter().chain([&INDEX]).map(|asset| asset.body);
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
        for asset in ASSETS.iter().chain([&INDEX]) {
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
