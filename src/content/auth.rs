//! Who may change the catalogue: whoever presents the admin token as
//! `Authorization: Bearer <token>`. Reads are open, because a Unity client looks up the
//! quiz behind an id it was sent.
//!
//! Without a configured token, writes are refused (403) rather than open: a server on a
//! LAN must not let any device there rewrite its content by default.

use std::fmt;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::ContentApi;
use super::error::ApiError;

/// The secret that authorises writes (`--admin-token` / `PAIRLINK_ADMIN_TOKEN`).
/// Never shown: its `Debug` form is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// Compares in time that does not depend on where the first difference is, so the
    /// token cannot be guessed byte by byte from response times. (Its length can.)
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl FromStr for AdminToken {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the admin token must be non-empty, without spaces or control characters".to_owned());
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

/// Proof that the request carries the admin token. Handlers that write take it as
/// their first extractor, so an unauthorised request is refused before its body is read.
pub struct Admin;

impl FromRequestParts<ContentApi> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &ContentApi) -> Result<Self, Self::Rejection> {
        let Some(token) = &app.admin_token else {
            return Err(ApiError::WritesDisabled);
        };
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer);
        match presented {
            Some(presented) if token.matches(presented) => Ok(Admin),
            _ => Err(ApiError::Unauthorized),
        }
    }
}

/// The credentials of a `Bearer` authorisation (the scheme is case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credentials.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_token() {
        let token: AdminToken = "s3cret-token".parse().unwrap();
        assert!(token.matches("s3cret-token"));
        assert!(!token.matches("s3cret-toke"));
        assert!(!token.matches("s3cret-tokeN"));
        assert!(!token.matches(""));
        assert_eq!(format!("{token:?}"), "AdminToken(***)");
    }

    #[test]
    fn refuses_tokens_that_cannot_travel_in_a_header() {
        for bad in ["", "two words", "tab\there"] {
            assert!(bad.parse::<AdminToken>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_bearer_credentials() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
