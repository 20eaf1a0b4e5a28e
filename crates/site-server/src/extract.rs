//! Extractors whose rejections speak the contract's error body.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::http::StatusCode;

use crate::error::AppError;

/// `Json<T>`, but a bad body is a 400 (413 when too large) with the contract's body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::PayloadTooLarge;
        }
        AppError::InvalidRequest(format!(
            "the JSON body is not valid: {}",
            rejection.body_text()
        ))
    }
}

/// `Query<T>`, but an unknown or malformed parameter is a 400 with the contract's body.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        // The typed queries of `site-api` say what is wrong in a sentence
        // of their own; axum's wording around it adds nothing for a client.
        let text = rejection.body_text();
        let reason = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        AppError::InvalidRequest(format!("the query is not valid: {reason}"))
    }
}

/// `Path<T>`, but a path segment that cannot be read (not UTF-8, say) is a
/// 400 with the contract's body, like every other rejection.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> AppError {
        AppError::InvalidRequest(format!("the path is not valid: {}", rejection.body_text()))
    }
}

/// The `{site}` path parameter.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SitePath {
    /// The Site's id, `[a-z0-9-]{1,64}`.
    #[param(pattern = "^[a-z0-9-]{1,64}$", example = "demo")]
    pub site: String,
}

/// The `{site}` and `{id}` path parameters of one task.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The Site's id, `[a-z0-9-]{1,64}`.
    #[param(pattern = "^[a-z0-9-]{1,64}$", example = "demo")]
    pub site: String,
    /// The task's id, `scan-<N>` or `audit-<N>` (any other text is a task that does not exist).
    #[param(pattern = "^(scan|audit)-[1-9][0-9]*$", example = "scan-1042")]
    pub id: String,
}

/// The `{site}` and `{id}` path parameters of one schedule.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SchedulePath {
    /// The Site's id, `[a-z0-9-]{1,64}`.
    #[param(pattern = "^[a-z0-9-]{1,64}$", example = "demo")]
    pub site: String,
    /// The schedule's id.
    pub id: String,
}
