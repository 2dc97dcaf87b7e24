//! The parts of a content API request, parsed once into types, each refusal a JSON
//! [`ApiError`] (axum's own rejections are plain text): the page and filter of a list,
//! the row id in the URL, and a row in the body.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde_json::Value;

use super::error::{ApiError, Fields};
use crate::catalog::rows::{self, Content, FieldError};

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most rows a page holds: large enough for a content tool, small enough that one
/// request cannot make the server read the whole catalogue at once.
pub const MAX_LIMIT: i64 = 500;
/// The largest offset: far beyond any catalogue, and exact in every JSON number reader.
pub const MAX_OFFSET: i64 = i32::MAX as i64;

/// `?difficulty=&limit=&offset=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListParams {
    /// Only rows of this difficulty.
    pub difficulty: Option<i32>,
    pub limit: i64,
    pub offset: i64,
}

impl<S: Send + Sync> FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|rejection| ApiError::InvalidQuery(Fields::from([("query".to_owned(), rejection.body_text())])))?;
        ListParams::parse(&pairs).map_err(ApiError::InvalidQuery)
    }
}

impl ListParams {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Fields> {
        let mut params = ListParams {
            difficulty: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
        };
        let mut errors = Fields::new();
        for (i, (name, value)) in pairs.iter().enumerate() {
            let problem = if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                Some("is given more than once".to_owned())
            } else {
                match name.as_str() {
                    "difficulty" => integer(value, 0, i64::from(i32::MAX))
                        .map(|d| params.difficulty = Some(d as i32))
                        .err(),
                    "limit" => integer(value, 1, MAX_LIMIT).map(|n| params.limit = n).err(),
                    "offset" => integer(value, 0, MAX_OFFSET).map(|n| params.offset = n).err(),
                    _ => Some("is not a query parameter here (use difficulty, limit, offset)".to_owned()),
                }
            };
            if let Some(problem) = problem {
                errors.insert(name.clone(), problem);
            }
        }
        if errors.is_empty() { Ok(params) } else { Err(errors) }
    }
}

fn integer(value: &str, min: i64, max: i64) -> Result<i64, String> {
    match rows::parse_integer(value) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be an integer from {min} to {max}, got '{value}'")),
    }
}

/// The `{id}` of a row URL: an integer from 1 up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowId(pub i32);

impl<S: Send + Sync> FromRequestParts<S> for RowId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::InvalidId(rejection.body_text()))?;
        match rows::parse_integer(&raw).and_then(|id| i32::try_from(id).ok()) {
            Some(id) if id >= 1 => Ok(RowId(id)),
            _ => Err(ApiError::InvalidId(format!(
                "'{}' is not an id: ids are integers from 1 to {}",
                raw.chars().take(64).collect::<String>(),
                i32::MAX
            ))),
        }
    }
}

/// A row of `T` in a JSON body, checked against the row rules (a POST's body).
pub struct JsonRow<T>(pub T);

impl<S: Send + Sync, T: Content> FromRequest<S> for JsonRow<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = json_body(request, state).await?;
        rows::decode::<T>(value).map(JsonRow).map_err(ApiError::invalid)
    }
}

/// A row of `T` without its id, which the URL gives (a PUT's body). An `id` in the body
/// is refused rather than compared: one place says which row changes.
pub struct JsonFields<T>(pub T);

impl<S: Send + Sync, T: Content> FromRequest<S> for JsonFields<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = json_body(request, state).await?;
        let id_given = value.get("id").is_some();
        match rows::decode::<T>(value) {
            Ok(row) if !id_given => Ok(JsonFields(row)),
            decoded => {
                let mut problems = decoded.err().unwrap_or_default();
                if id_given {
                    problems.push(FieldError::new("id", "is not a field here: the URL names the row"));
                }
                Err(ApiError::invalid(problems))
            }
        }
    }
}

/// The body as JSON, refusing other content types.
async fn json_body<S: Send + Sync>(request: Request, state: &S) -> Result<Value, ApiError> {
    if !is_json(request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok())) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedJson(rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|err| ApiError::MalformedJson(err.to_string()))
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<ListParams, Fields> {
        let pairs: Vec<_> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListParams::parse(&pairs)
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(
            parse(&[]).unwrap(),
            ListParams {
                difficulty: None,
                limit: DEFAULT_LIMIT,
                offset: 0
            }
        );
        assert_eq!(
            parse(&[("difficulty", "3"), ("limit", "500"), ("offset", "7.0")]).unwrap(),
            ListParams {
                difficulty: Some(3),
                limit: 500,
                offset: 7
            }
        );
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let errors = parse(&[
            ("limit", "0"),
            ("offset", "-1"),
            ("difficulty", ""),
            ("dificulty", "2"),
            ("offset", "1"),
        ])
        .unwrap_err();
        assert_eq!(errors["limit"], "must be an integer from 1 to 500, got '0'");
        assert_eq!(errors["offset"], "is given more than once");
        assert!(errors["difficulty"].contains("got ''"));
        assert!(errors["dificulty"].contains("not a query parameter"));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}
