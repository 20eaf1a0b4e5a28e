//! The server's errors: what a request can fail with (mapped to the contract's
//! error body) and what start-up can fail with.

use std::path::PathBuf;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use site_api::{ApiError, ErrorBody, ErrorCode};

/// A request that cannot be served, mapped to a status and the contract's body.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `invalid_request`.
    #[error("{0}")]
    InvalidRequest(String),
    /// 401 `unauthenticated`.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403 `forbidden`.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`.
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    /// 409 `conflict`.
    #[error("{0}")]
    Conflict(String),
    /// 413 `payload_too_large`.
    #[error("the request body is over 1 MiB")]
    PayloadTooLarge,
    /// 429 `rate_limited`.
    #[error("too many requests; retry in {retry_after} seconds")]
    RateLimited {
        /// Seconds until the caller may try again.
        retry_after: u64,
    },
    /// 500 `internal`: storage failed. The detail is logged, never sent.
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    /// 500 `internal`: anything else that should not happen.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// The contract's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            AppError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Storage(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        let message = match &self {
            AppError::Storage(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                "The server failed to handle the request.".to_owned()
            }
            other => sentence(&other.to_string()),
        };
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            Json(ErrorBody {
                error: ApiError { code, message },
            }),
        )
            .into_response();
        if let AppError::RateLimited { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

/// Makes a message one human sentence: capitalised, with a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return "The request failed.".to_owned(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration is not valid.
    #[error("invalid configuration {path}: {message}")]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data folder could not be made or used.
    #[error("cannot use data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    /// The PostgreSQL database could not be reached.
    #[error("cannot connect to the database {url}: {source}")]
    Connect {
        /// Its URL, without the password.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A secret could not be hashed.
    #[error("cannot hash a client secret: {0}")]
    Hash(String),
    /// Tasks a crash left running could not be ended.
    #[error("cannot end tasks left running by a crash: {0}")]
    Recover(AppError),
    /// The TLS certificate or key could not be loaded.
    #[error("cannot load the TLS certificate and key: {0}")]
    Tls(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_sentences() {
        assert_eq!(sentence("no such task"), "No such task.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "The request failed.");
    }
}
