//! Why a content API request failed, and the one JSON body every failure answers with:
//! `{"status":"error","code":"…","message":"…","fields":{"name":"must not be empty"}}`.
//!
//! The shape is the WebSocket endpoints' error reply plus `fields`, so a client handles
//! both alike. `code` says what to do next; `message` is for people; `fields` (only on
//! `invalid_query` and `validation_failed`) maps each offending field to its problem.
//! Database failures are logged and answered with a bare 500: their details stay here.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::Table;
use crate::catalog::rows::FieldError;

/// Field name → what is wrong with it.
pub type Fields = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid query parameters")]
    InvalidQuery(Fields),
    #[error("{0}")]
    InvalidId(String),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be JSON: send Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the body is larger than the server accepts")]
    PayloadTooLarge,
    #[error("{message}")]
    Invalid { message: String, fields: Fields },
    #[error("a valid admin token is required: send Authorization: Bearer <token>")]
    Unauthorized,
    #[error(
        "content writes are disabled on this server: start it with --admin-token or \
         PAIRLINK_ADMIN_TOKEN set to enable them"
    )]
    WritesDisabled,
    #[error("there is no {} with id {id}", table.noun())]
    NotFound { table: Table, id: i32 },
    #[error("{} {id} exists already: update it with PUT, or leave the id out to get a new one", table.with_article())]
    IdTaken { table: Table, id: i32 },
    #[error("no id is left for a new {}: the largest id, {}, is taken; give an id", table.noun(), i32::MAX)]
    NoFreeId { table: Table },
    #[error("internal error")]
    Database(#[from] sqlx::Error),
}

/// Machine-readable failure codes; docs/content-api.md says when each is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    InvalidQuery,
    InvalidId,
    MalformedJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    ValidationFailed,
    Unauthorized,
    WritesDisabled,
    NotFound,
    IdTaken,
    NoFreeId,
    Internal,
}

/// The body of every error response of the content API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Always `"error"`.
    #[schema(pattern = "^error$")]
    pub status: String,
    pub code: ApiErrorCode,
    pub message: String,
    /// Field (or query parameter) name → what is wrong with it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub fields: Fields,
}

impl ApiError {
    /// A row that broke the rules: each problem under its field's name.
    pub fn invalid(problems: Vec<FieldError>) -> Self {
        let mut fields = Fields::new();
        let mut whole = Vec::new();
        for problem in problems {
            if problem.field.is_empty() {
                whole.push(problem.problem);
            } else {
                fields
                    .entry(problem.field)
                    .and_modify(|p| {
                        p.push_str("; ");
                    })
                    .or_default()
                    .push_str(&problem.problem);
            }
        }
        let message = if whole.is_empty() {
            "the request body is not valid: see fields".to_owned()
        } else {
            whole.join("; ")
        };
        ApiError::Invalid { message, fields }
    }

    fn status_and_code(&self) -> (StatusCode, ApiErrorCode) {
        match self {
            ApiError::InvalidQuery(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidQuery),
            ApiError::InvalidId(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidId),
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::MalformedJson),
            ApiError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, ApiErrorCode::UnsupportedMediaType),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ApiErrorCode::PayloadTooLarge),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, ApiErrorCode::ValidationFailed),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, ApiErrorCode::Unauthorized),
            ApiError::WritesDisabled => (StatusCode::FORBIDDEN, ApiErrorCode::WritesDisabled),
            ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, ApiErrorCode::NotFound),
            ApiError::IdTaken { .. } => (StatusCode::CONFLICT, ApiErrorCode::IdTaken),
            ApiError::NoFreeId { .. } => (StatusCode::CONFLICT, ApiErrorCode::NoFreeId),
            ApiError::Database(_) => (StatusCode::INTERNAL_SERVER_ERROR, ApiErrorCode::Internal),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Database(err) = &self {
            tracing::error!(%err, "content API request failed");
        }
        let fields = match &self {
            ApiError::InvalidQuery(fields) | ApiError::Invalid { fields, .. } => fields.clone(),
            _ => Fields::new(),
        };
        let body = ErrorBody {
            status: "error".to_owned(),
            code,
            message: self.to_string(),
            fields,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"pairlink\""),
            );
        }
        response
    }
}
