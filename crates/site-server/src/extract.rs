//! Extractors whose rejections speak the contract's error body.

use axum::extract::rejection::{JsonRejection, QueryRejection};
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
        AppError::InvalidRequest(format!("the query is not valid: {}", rejection.body_text()))
    }
}
