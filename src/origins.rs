//! Which web pages may use pairlink (`--allowed-origins`). Browsers send an `Origin`
//! header with every WebSocket handshake and with cross-site API calls; native apps
//! (Unity, Android) send none and are never affected.
//!
//! Without a list every origin is allowed, as before, and start-up warns: any web page a
//! player opens could otherwise connect to a LAN server in their name (the seed's
//! `CheckOrigin` returned true unconditionally, with no way to change it). With a list, a
//! WebSocket handshake from another origin gets 403 before the upgrade, and CORS for the
//! HTTP API follows the same list.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::session::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN, UPGRADE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::protocol::ErrorCode;
use crate::session::refusal::{self, Refusal};

/// One allowed origin, `scheme://host[:port]`, kept lowercase as browsers send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin(String);

impl FromStr for AllowedOrigin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().trim_end_matches('/');
        let usage =
            || format!("{s:?} is not an origin like https://game.example.com (scheme, host and optional port only)");
        let uri: axum::http::Uri = s.parse().map_err(|_| usage())?;
        let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
        let bare = uri.path() == "/" && uri.query().is_none() && !s.contains('@');
        if !scheme_ok || uri.host().is_none_or(str::is_empty) || !bare {
            return Err(usage());
        }
        Ok(Self(s.to_ascii_lowercase()))
    }
}

/// The origins allowed; `None` allows every origin.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy(Option<Arc<[AllowedOrigin]>>);

impl OriginPolicy {
    pub fn new(allowed: Option<Vec<AllowedOrigin>>) -> Self {
        Self(allowed.map(Into::into))
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        match &self.0 {
            None => true,
            Some(allowed) => origin
                .to_str()
                .is_ok_and(|origin| allowed.iter().any(|a| a.0.eq_ignore_ascii_case(origin))),
        }
    }

    /// Says at start-up what the policy is.
    pub fn log(&self) {
        match &self.0 {
            None => tracing::warn!(
                "no --allowed-origins: web pages from any site may open WebSockets and call the API; \
                 list your sites before exposing pairlink to browsers"
            ),
            Some(allowed) => {
                let list: Vec<&str> = allowed.iter().map(|a| a.0.as_str()).collect();
                tracing::info!(origins = ?list, "browser origins allowed");
            }
        }
    }

    /// CORS for the HTTP API, following the same list.
    pub fn cors(&self) -> CorsLayer {
        let origins = match &self.0 {
            None => AllowOrigin::any(),
            Some(allowed) => AllowOrigin::list(
                allowed
                    .iter()
                    .filter_map(|origin| HeaderValue::from_str(&origin.0).ok()),
            ),
        };
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE])
            .max_age(Duration::from_secs(3600))
    }
}

/// Refuses a WebSocket handshake whose `Origin` is not allowed, before any handler runs:
/// 403, or for a client that offered `pairlink.v2`, in-band with 4403.
pub async fn guard(State(policy): State<OriginPolicy>, request: Request, next: Next) -> Response {
    if !policy.refuses(request.headers()) {
        return next.run(request).await;
    }
    let (mut parts, _body) = request.into_parts();
    let version = refusal::offered(&parts.headers);
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &()).await;
    Refusal::new(
        StatusCode::FORBIDDEN,
        ErrorCode::OriginNotAllowed,
        "pages from this origin may not connect to this server (see --allowed-origins)",
    )
    .respond(version, upgrade)
}

impl OriginPolicy {
    /// Whether a request is a WebSocket handshake from a page this policy keeps out.
    fn refuses(&self, headers: &HeaderMap) -> bool {
        let upgrading = headers
            .get(UPGRADE)
            .is_some_and(|upgrade| upgrade.as_bytes().eq_ignore_ascii_case(b"websocket"));
        let origin = headers.get(ORIGIN).filter(|_| upgrading);
        origin.is_some_and(|origin| !self.allows(origin) && !same_origin(origin, headers.get(HOST)))
    }
}

/// Whether a page was served by this server itself (the web console): its origin's
/// host and port are the ones the request was sent to, and that host is an IP address or
/// `localhost`. A host *name* is not trusted this way: with DNS rebinding, a hostile
/// page's name can point at this server, and then its origin and `Host` agree too. Reach
/// the console by name only if that name is in `--allowed-origins`.
fn same_origin(origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), host.map(HeaderValue::to_str)) else {
        return false;
    };
    let same = origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
    same && host_is_address(host)
}

/// `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080` (a port or not).
fn host_is_address(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        for (given, kept) in [
            ("https://Game.Example.com", "https://game.example.com"),
            ("http://localhost:8080/", "http://localhost:8080"),
            (" https://a.b ", "https://a.b"),
        ] {
            assert_eq!(given.parse::<AllowedOrigin>(), Ok(AllowedOrigin(kept.to_owned())));
        }
        for bad in [
            "game.example.com",
            "ftp://x.com",
            "https://x.com/path",
            "https://x.com?q",
            "https://u@x.com",
            "*",
            "",
        ] {
            assert!(bad.parse::<AllowedOrigin>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_listed_origins_are_allowed_once_there_is_a_list() {
        let open = OriginPolicy::default();
        assert!(open.allows(&HeaderValue::from_static("https://anything.example")));
        let closed = OriginPolicy::new(Some(vec!["https://game.example.com".parse().unwrap()]));
        assert!(closed.allows(&HeaderValue::from_static("https://game.example.com")));
        assert!(closed.allows(&HeaderValue::from_static("https://GAME.example.com")));
        assert!(!closed.allows(&HeaderValue::from_static("https://evil.example")));
        assert!(!closed.allows(&HeaderValue::from_static("null")));
    }

    #[test]
    fn only_websocket_handshakes_from_foreign_pages_are_refused() {
        let policy = OriginPolicy::new(Some(vec!["https://game.example.com".parse().unwrap()]));
        let headers = |pairs: &[(&'static str, &'static str)]| -> HeaderMap {
            pairs
                .iter()
                .map(|(name, value)| (name.parse().unwrap(), HeaderValue::from_static(value)))
                .collect()
        };
        let evil = ("origin", "https://evil.example");
        assert!(policy.refuses(&headers(&[("upgrade", "websocket"), evil])));
        assert!(policy.refuses(&headers(&[("upgrade", "WebSocket"), evil])));
        assert!(!policy.refuses(&headers(&[evil])), "plain HTTP is CORS's business");
        assert!(
            !policy.refuses(&headers(&[("upgrade", "websocket")])),
            "native apps send no origin"
        );
        assert!(!policy.refuses(&headers(&[
            ("upgrade", "websocket"),
            ("origin", "https://game.example.com")
        ])));
        assert!(!OriginPolicy::default().refuses(&headers(&[("upgrade", "websocket"), evil])));
    }

    #[test]
    fn pages_served_by_this_server_are_its_own_origin() {
        let host = HeaderValue::from_static("10.0.0.5:8080");
        assert!(same_origin(
            &HeaderValue::from_static("http://10.0.0.5:8080"),
            Some(&host)
        ));
        assert!(same_origin(
            &HeaderValue::from_static("https://10.0.0.5:8080"),
            Some(&host)
        ));
        assert!(!same_origin(
            &HeaderValue::from_static("http://10.0.0.5:9090"),
            Some(&host)
        ));
        assert!(!same_origin(
            &HeaderValue::from_static("http://evil.example"),
            Some(&host)
        ));
        assert!(!same_origin(&HeaderValue::from_static("http://10.0.0.5:8080"), None));
        let ipv6 = HeaderValue::from_static("[::1]:8080");
        assert!(same_origin(&HeaderValue::from_static("http://[::1]:8080"), Some(&ipv6)));
        // A rebound host name agrees with itself, but is not trusted.
        let name = HeaderValue::from_static("rebind.example:8080");
        assert!(!same_origin(
            &HeaderValue::from_static("http://rebind.example:8080"),
            Some(&name)
        ));
    }
}
