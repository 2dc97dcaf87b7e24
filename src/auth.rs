//! Connection auth (opt-in with `--auth-secret`): each WebSocket must present a token,
//! a JWT signed with HS256 (HMAC-SHA256) by the game's backend, naming what it may open
//! and until when.
//!
//! A token's `sub` is the scope: the UUID for both sides of a pair, or `display:UUID` /
//! `controller:UUID` for one side (the display's also asks its pairing code), then
//! `room:NAME`, `signal:NAME`, `hub` or `echo`; `exp` is its expiry (seconds since the
//! epoch). Browsers cannot set headers on a WebSocket, so the
//! token travels as `?token=`; native clients may send `Authorization: Bearer` instead.
//! `/ws/join/{code}` needs no token: the code itself was issued to an authorised display.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::protocol::{DeviceId, ErrorCode, Role, RoomName};
use crate::session::refusal::Refusal;

/// The shortest secret accepted: HS256 keys shorter than the hash add no strength, and
/// short ones can be brute-forced from a single token.
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock difference tolerated between the backend that issues tokens and pairlink.
const LEEWAY: Duration = Duration::from_secs(30);

/// What a token lets its bearer open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Either side of the pair with this UUID.
    Device(DeviceId),
    /// One side of the pair: what a pairing endpoint needs. A token for the whole pair
    /// ([`Scope::Device`]) opens it too.
    Side(DeviceId, Role),
    Room(RoomName),
    Signal(RoomName),
    Hub,
    Echo,
}

impl fmt::Display for Scope {
    /// The token's `sub`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Device(device) => write!(f, "{device}"),
            Scope::Side(device, role) => write!(f, "{role}:{device}"),
            Scope::Room(room) => write!(f, "room:{room}"),
            Scope::Signal(room) => write!(f, "signal:{room}"),
            Scope::Hub => f.write_str("hub"),
            Scope::Echo => f.write_str("echo"),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

/// The shared secret (`--auth-secret` / `PAIRLINK_AUTH_SECRET`). Never shown.
#[derive(Clone)]
pub struct AuthSecret(Vec<u8>);

impl fmt::Debug for AuthSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthSecret(***)")
    }
}

impl PartialEq for AuthSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for AuthSecret {}

impl std::str::FromStr for AuthSecret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the auth secret must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            ));
        }
        Ok(Self(s.as_bytes().to_vec()))
    }
}

/// Why a token was refused; each is HTTP 401 before the upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this server requires a token: add ?token=… to the URL (or send Authorization: Bearer …)")]
    Missing,
    #[error("the token has expired; ask your backend for a new one")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token is for {granted}, not for {wanted}")]
    WrongScope { granted: String, wanted: String },
}

impl TokenError {
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::Missing => ErrorCode::TokenRequired,
            TokenError::Expired => ErrorCode::TokenExpired,
            TokenError::Invalid(_) | TokenError::WrongScope { .. } => ErrorCode::TokenInvalid,
        }
    }
}

/// Checks tokens for one server; `None` in [`crate::app::AppState`] means auth is off.
#[derive(Clone)]
pub struct Auth {
    key: DecodingKey,
    validation: Validation,
}

impl Auth {
    pub fn new(secret: &AuthSecret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY.as_secs();
        validation.validate_aud = false;
        Self {
            key: DecodingKey::from_secret(&secret.0),
            validation,
        }
    }

    /// Whether `token` opens `scope` now.
    pub fn check(&self, token: Option<&str>, scope: &Scope) -> Result<(), TokenError> {
        let token = token.ok_or(TokenError::Missing)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid(err.to_string()),
            })?
            .claims;
        match Scope::from_sub(&claims.sub) {
            Some(granted) if granted.opens(scope) => Ok(()),
            _ => Err(TokenError::WrongScope {
                granted: claims.sub.chars().take(80).collect(),
                wanted: scope.to_string(),
            }),
        }
    }
}

impl Scope {
    /// The scope a token's `sub` names. Its UUID is read as URLs read theirs (any case),
    /// so a backend that writes UUIDs in capitals issues tokens that work.
    fn from_sub(sub: &str) -> Option<Self> {
        let side = |role, uuid: &str| uuid.parse().ok().map(|device| Scope::Side(device, role));
        if let Some(uuid) = sub.strip_prefix("display:") {
            return side(Role::Display, uuid);
        }
        if let Some(uuid) = sub.strip_prefix("controller:") {
            return side(Role::Controller, uuid);
        }
        if let Some(room) = sub.strip_prefix("room:") {
            return room.parse().ok().map(Scope::Room);
        }
        if let Some(room) = sub.strip_prefix("signal:") {
            return room.parse().ok().map(Scope::Signal);
        }
        match sub {
            "hub" => Some(Scope::Hub),
            "echo" => Some(Scope::Echo),
            uuid => uuid.parse().ok().map(Scope::Device),
        }
    }

    /// Whether a token granting `self` opens `wanted`: the same scope, or the whole pair
    /// for one of its sides.
    fn opens(&self, wanted: &Scope) -> bool {
        match (self, wanted) {
            (Scope::Device(granted), Scope::Side(device, _)) => granted == device,
            _ => self == wanted,
        }
    }
}

/// Makes a token for `scope`, valid for `ttl` (`pairlink token`, and what a game's
/// backend does with any JWT library).
pub fn issue(secret: &AuthSecret, scope: &Scope, ttl: Duration) -> String {
    let exp = (SystemTime::now() + ttl)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let claims = Claims {
        sub: scope.to_string(),
        exp,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&secret.0),
    )
    .expect("HS256 signing cannot fail")
}

/// The token a request presents: `?token=` or `Authorization: Bearer`.
#[derive(Debug, Clone, Default)]
pub struct Token(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|query| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .ok()?
                .into_iter()
                .find_map(|(name, value)| (name == "token").then_some(value))
        });
        let from_header = || {
            let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
            bearer(value).map(str::to_owned)
        };
        Ok(Token(from_query.or_else(from_header)))
    }
}

/// The token of an `Authorization: Bearer …` value. The scheme is case-insensitive, as
/// HTTP authentication schemes are (RFC 9110, 11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Refuses with 401 (4401 in-band for v2) unless auth is off or `token` opens `scope`.
pub fn authorize(auth: Option<&Auth>, token: &Token, scope: Scope) -> Result<(), Refusal> {
    let Some(auth) = auth else { return Ok(()) };
    auth.check(token.0.as_deref(), &scope).map_err(|err| {
        tracing::debug!(%err, "refusing a connection without a valid token");
        Refusal::new(StatusCode::UNAUTHORIZED, err.code(), err.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> AuthSecret {
        "0123456789abcdef0123456789abcdef".parse().unwrap()
    }

    fn device() -> DeviceId {
        "de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap()
    }

    #[test]
    fn a_token_opens_its_scope_only() {
        let auth = Auth::new(&secret());
        let token = issue(&secret(), &Scope::Device(device()), Duration::from_secs(60));
        assert_eq!(auth.check(Some(&token), &Scope::Device(device())), Ok(()));
        let other = Scope::Room("lobby".parse().unwrap());
        assert!(matches!(
            auth.check(Some(&token), &other),
            Err(TokenError::WrongScope { .. })
        ));
        let room = issue(&secret(), &other, Duration::from_secs(60));
        assert_eq!(auth.check(Some(&room), &other), Ok(()));
        assert!(
            auth.check(Some(&room), &Scope::Signal("lobby".parse().unwrap()))
                .is_err()
        );
    }

    #[test]
    fn a_token_for_one_side_does_not_open_the_other() {
        let auth = Auth::new(&secret());
        let (display, controller) = (
            Scope::Side(device(), Role::Display),
            Scope::Side(device(), Role::Controller),
        );
        let for_display = issue(&secret(), &display, Duration::from_secs(60));
        assert_eq!(auth.check(Some(&for_display), &display), Ok(()));
        assert!(matches!(
            auth.check(Some(&for_display), &controller),
            Err(TokenError::WrongScope { .. })
        ));
        let for_pair = issue(&secret(), &Scope::Device(device()), Duration::from_secs(60));
        assert_eq!(auth.check(Some(&for_pair), &display), Ok(()));
        assert_eq!(auth.check(Some(&for_pair), &controller), Ok(()));
    }

    #[test]
    fn missing_forged_and_expired_tokens_are_told_apart() {
        let auth = Auth::new(&secret());
        let scope = Scope::Hub;
        assert_eq!(auth.check(None, &scope), Err(TokenError::Missing));
        let forged = issue(
            &"another secret of thirty-two bytes!".parse().unwrap(),
            &scope,
            Duration::from_secs(60),
        );
        assert!(matches!(auth.check(Some(&forged), &scope), Err(TokenError::Invalid(_))));
        assert!(matches!(
            auth.check(Some("not a jwt"), &scope),
            Err(TokenError::Invalid(_))
        ));
        let claims = Claims {
            sub: "hub".to_owned(),
            exp: SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() - 120,
        };
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&secret().0),
        )
        .unwrap();
        assert_eq!(auth.check(Some(&expired), &scope), Err(TokenError::Expired));
    }

    #[test]
    fn tokens_signed_with_another_algorithm_are_refused() {
        let auth = Auth::new(&secret());
        let claims = Claims {
            sub: "hub".to_owned(),
            exp: u64::MAX / 2,
        };
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&secret().0),
        )
        .unwrap();
        assert!(matches!(
            auth.check(Some(&hs512), &Scope::Hub),
            Err(TokenError::Invalid(_))
        ));
    }

    /// A token signed for `sub` as a backend might write it.
    fn token_for(sub: &str) -> String {
        let claims = Claims {
            sub: sub.to_owned(),
            exp: u64::MAX / 2,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&secret().0),
        )
        .unwrap()
    }

    #[test]
    fn uuids_in_a_sub_are_read_in_any_case_as_urls_read_them() {
        let auth = Auth::new(&secret());
        let upper = "DE358130-E94A-5692-8B09-D27007AD1944";
        for sub in [upper.to_owned(), format!("display:{upper}")] {
            assert_eq!(
                auth.check(Some(&token_for(&sub)), &Scope::Side(device(), Role::Display)),
                Ok(()),
                "{sub}"
            );
        }
        assert_eq!(
            auth.check(
                Some(&token_for(&format!("controller:{upper}"))),
                &Scope::Device(device())
            ),
            Err(TokenError::WrongScope {
                granted: format!("controller:{upper}"),
                wanted: device().to_string()
            }),
            "one side does not open the whole pair"
        );
        for sub in [
            "DISPLAY:de358130-e94a-5692-8b09-d27007ad1944",
            "de358130e94a56928b09d27007ad1944",
            "{de358130-e94a-5692-8b09-d27007ad1944}",
            "room:LOBBY",
            "HUB",
            "",
        ] {
            let wanted = [
                Scope::Device(device()),
                Scope::Room("lobby".parse().unwrap()),
                Scope::Hub,
            ];
            for scope in &wanted {
                assert!(
                    auth.check(Some(&token_for(sub)), scope).is_err(),
                    "{sub} opened {scope}"
                );
            }
        }
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for (value, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER  abc ", Some("abc")),
            ("Bearer\tabc", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearerabc", None),
        ] {
            assert_eq!(bearer(value), token, "{value:?}");
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!("too short".parse::<AuthSecret>().is_err());
        assert!(format!("{:?}", secret()).contains("***"));
    }
}
