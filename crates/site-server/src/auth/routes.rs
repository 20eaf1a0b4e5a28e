//! `POST /api/oauth/token`, `POST /api/oauth/revoke`, `GET /api/v1/me`, `GET /api/v1/sites`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use site_api::{Me, OAuthError, OAuthErrorCode, SiteMembership, SitesResponse, TokenResponse};

use super::{new_token, token_hash, verify_secret, Caller, TOKEN_LIFETIME_SECS};
use crate::db;
use crate::error::AppError;
use crate::limits::Limits;
use crate::state::AppState;

/// The credential routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/oauth/token", post(token_create))
        .route("/api/oauth/revoke", post(token_revoke))
        .route("/api/v1/me", get(me_show))
        .route("/api/v1/sites", get(sites_list))
}

/// An RFC 6749 error answer.
fn oauth_error(status: StatusCode, error: OAuthErrorCode, description: &str) -> Response {
    (
        status,
        Json(OAuthError {
            error,
            error_description: description.to_owned(),
        }),
    )
        .into_response()
}

fn invalid_request(description: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        OAuthErrorCode::InvalidRequest,
        description,
    )
}

fn invalid_client(description: &str) -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        OAuthErrorCode::InvalidClient,
        description,
    )
}

/// The client id and secret from HTTP Basic auth, if sent.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let parse = || {
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| ())?;
        let text = String::from_utf8(decoded).map_err(|_| ())?;
        let (id, secret) = text.split_once(':').ok_or(())?;
        Ok((id.to_owned(), secret.to_owned()))
    };
    Some(parse())
}

/// An access token for an app registration (OAuth 2.0 client credentials).
///
/// The client id and secret come in the form or in HTTP Basic auth. Errors
/// follow RFC 6749 section 5.2, not the API's error body.
#[utoipa::path(
    post,
    path = "/api/oauth/token",
    tag = "credentials",
    request_body(content = site_api::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A Bearer token valid for an hour", body = TokenResponse),
        (status = 400, description = "invalid_request or unsupported_grant_type", body = OAuthError),
        (status = 401, description = "invalid_client: wrong id or secret, or an expired registration", body = OAuthError),
        (status = 429, description = "Too many failures or requests; see Retry-After", body = site_api::ErrorBody),
    )
)]
async fn token_create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => return invalid_request("The body must be application/x-www-form-urlencoded."),
    };
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                OAuthErrorCode::UnsupportedGrantType,
                "Only the client_credentials grant is supported.",
            )
        }
        None => return invalid_request("grant_type is missing."),
    }
    let (client_id, secret) = match basic_credentials(&headers) {
        Some(Ok(credentials)) => credentials,
        Some(Err(())) => return invalid_request("The Basic Authorization header is malformed."),
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => return invalid_request("client_id and client_secret are required."),
        },
    };
    let limits = state.limits();
    let allowed = match limits.check_lockout(&client_id).await {
        Ok(()) => limits.check_request(&client_id).await,
        refused => refused,
    };
    if let Err(error) = allowed {
        return error.into_response();
    }
    match issue_token(&state, &client_id, &secret).await {
        Ok(TokenOutcome::Issued(token)) => {
            let mut response = Json(token).into_response();
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(TokenOutcome::Wrong) => {
            failed(limits, &client_id, "The client id or secret is wrong.").await
        }
        Ok(TokenOutcome::Expired) => failed(limits, &client_id, EXPIRED_DESCRIPTION).await,
        Err(error) => error.into_response(),
    }
}

/// Counts a failed token request towards the lockout, then refuses it.
async fn failed(limits: &Limits, client_id: &str, description: &str) -> Response {
    match limits.record_failure(client_id).await {
        Ok(()) => invalid_client(description),
        Err(error) => error.into_response(),
    }
}

/// What the token endpoint says to the right id and secret of an expired
/// registration (only to them: a wrong secret reads as wrong).
pub const EXPIRED_DESCRIPTION: &str =
    "This app registration has expired; its owner can create a new one.";

/// What a token request comes to.
enum TokenOutcome {
    /// A new token.
    Issued(TokenResponse),
    /// Unknown id, or a wrong secret.
    Wrong,
    /// The right id and secret of an expired registration.
    Expired,
}

/// Checks the credentials and stores a new token.
async fn issue_token(
    state: &AppState,
    client_id: &str,
    secret: &str,
) -> Result<TokenOutcome, AppError> {
    let row: Option<(String, Option<i64>)> = sqlx::query_as(
        "SELECT secret_hash, expires_at FROM app_registrations WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(state.pool())
    .await?;
    let Some((secret_hash, expires_at)) = row else {
        return Ok(TokenOutcome::Wrong);
    };
    let now = db::to_db_time(db::now());
    let secret = secret.to_owned();
    // Argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || verify_secret(&secret, &secret_hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !matches {
        return Ok(TokenOutcome::Wrong);
    }
    if expires_at.is_some_and(|expires_at| expires_at <= now) {
        return Ok(TokenOutcome::Expired);
    }
    let token = new_token();
    sqlx::query(
        "INSERT INTO access_tokens (token_hash, client_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash(&token))
    .bind(client_id)
    .bind(now + TOKEN_LIFETIME_SECS as i64)
    .execute(state.pool())
    .await?;
    Ok(TokenOutcome::Issued(TokenResponse {
        access_token: token,
        token_type: "Bearer".to_owned(),
        expires_in: TOKEN_LIFETIME_SECS,
    }))
}

/// Revokes an access token; it stops working at once.
#[utoipa::path(
    post,
    path = "/api/oauth/revoke",
    tag = "credentials",
    request_body(content = site_api::RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (also when it was unknown)"),
        (status = 400, description = "The token is missing", body = OAuthError),
    )
)]
async fn token_revoke(State(state): State<AppState>, body: Bytes) -> Response {
    let form: HashMap<String, String> = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => return invalid_request("The body must be application/x-www-form-urlencoded."),
    };
    let Some(token) = form.get("token") else {
        return invalid_request("token is missing.");
    };
    // RFC 7009: an unknown token is not an error.
    match sqlx::query("UPDATE access_tokens SET revoked = 1 WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(state.pool())
        .await
    {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => AppError::from(error).into_response(),
    }
}

/// The Sites `email` has a role on, ordered by name.
async fn memberships(state: &AppState, email: &str) -> Result<Vec<SiteMembership>, AppError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT site_id, role FROM roles WHERE email = $1")
            .bind(email)
            .fetch_all(state.pool())
            .await?;
    let mut sites = Vec::with_capacity(rows.len());
    for (site_id, role) in rows {
        if let Some(site) = state.site(&site_id) {
            sites.push(SiteMembership {
                id: site_id,
                name: site.config.name.clone(),
                role: db::parse_column("role", &role)?,
            });
        }
    }
    sites.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(sites)
}

/// The caller: their email, name, client id and per-Site roles.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "credentials",
    responses((status = 200, description = "The caller", body = Me)),
    security(("bearer" = []))
)]
async fn me_show(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, AppError> {
    let sites = memberships(&state, &caller.email).await?;
    Ok(Json(Me {
        email: caller.email,
        display_name: caller.display_name,
        client_id: caller.client_id,
        sites,
    }))
}

/// The Sites where the caller has a role.
#[utoipa::path(
    get,
    path = "/api/v1/sites",
    tag = "credentials",
    responses((status = 200, description = "The caller's Sites", body = SitesResponse)),
    security(("bearer" = []))
)]
async fn sites_list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SitesResponse>, AppError> {
    Ok(Json(SitesResponse {
        sites: memberships(&state, &caller.email).await?,
    }))
}
