//! The `Caller` extractor: who is behind a bearer token, read on every request.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::db;
use crate::error::AppError;
use crate::state::{AppState, SiteAccess};

/// The owner of the app registration a valid token was issued to.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The owner's email.
    pub email: String,
    /// The owner's display name.
    pub display_name: String,
    /// The registration's client id.
    pub client_id: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, AppError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(AppError::Unauthenticated("this call needs a bearer token"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(AppError::Unauthenticated(
                "the Authorization header must be \"Bearer <access_token>\"",
            ))?;
        let now = db::to_db_time(db::now());
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT u.email, u.display_name, r.client_id
               FROM access_tokens t
               JOIN app_registrations r ON r.client_id = t.client_id
               JOIN users u ON u.email = r.owner
              WHERE t.token_hash = $1 AND t.revoked = 0 AND t.expires_at > $2
                AND (r.expires_at IS NULL OR r.expires_at > $3)",
        )
        .bind(super::token_hash(token))
        .bind(now)
        .bind(now)
        .fetch_optional(state.pool())
        .await?;
        let (email, display_name, client_id) = row.ok_or(AppError::Unauthenticated(
            "the access token is unknown, expired or revoked",
        ))?;
        state.limits().check_request(&client_id).await?;
        Ok(Caller {
            email,
            display_name,
            client_id,
        })
    }
}

impl Caller {
    /// The caller's access to Site `site_id`, read afresh. A Site the caller
    /// has no role on is a 404, as if it did not exist.
    pub async fn site_access(
        &self,
        state: &AppState,
        site_id: &str,
    ) -> Result<SiteAccess, AppError> {
        let not_found = || AppError::NotFound(format!("there is no Site {site_id:?}"));
        let site = state.site(site_id).ok_or_else(not_found)?;
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM roles WHERE email = $1 AND site_id = $2")
                .bind(&self.email)
                .bind(site_id)
                .fetch_optional(state.pool())
                .await?;
        let role = role.ok_or_else(not_found)?;
        Ok(SiteAccess {
            site: site.clone(),
            role: db::parse_column("role", &role)?,
        })
    }
}
