//! `GET …/audit-services`, `GET …/signals` and `GET …/stats`: the Site's
//! capacity and health.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use site_api::{AuditServicesResponse, SignalsResponse, Stats};

use crate::auth::Caller;
use crate::error::AppError;
use crate::monitor;
use crate::state::AppState;

/// The Audit Service routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/sites/{site}/audit-services",
            get(audit_services_list),
        )
        .route("/api/v1/sites/{site}/signals", get(signals_list))
        .route("/api/v1/sites/{site}/stats", get(stats_show))
}

async fn signals_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
) -> Result<Json<SignalsResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(SignalsResponse {
        signals: monitor::signals(state.pool(), &access.site).await?,
    }))
}

async fn stats_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
) -> Result<Json<Stats>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(monitor::stats(state.pool(), &access.site).await?))
}

async fn audit_services_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
) -> Result<Json<AuditServicesResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(AuditServicesResponse {
        audit_services: access
            .site
            .audit_services
            .iter()
            .map(|service| service.snapshot())
            .collect(),
    }))
}
