//! `GET …/audit-services`, `GET …/signals` and `GET …/stats`: the Site's
//! capacity and health.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use site_api::{AuditServicesResponse, SignalsResponse, Stats};

use crate::auth::Caller;
use crate::error::AppError;
use crate::extract::{ApiPath, SitePath};
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

/// The signals in force: a long queue, tasks running for hours, Audit Services offline.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/signals",
    tag = "health",
    params(crate::extract::SitePath),
    responses((status = 200, description = "The signals in force now", body = SignalsResponse)),
    security(("bearer" = []))
)]
async fn signals_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
) -> Result<Json<SignalsResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(SignalsResponse {
        signals: monitor::signals(state.pool(), &access.site).await?,
    }))
}

/// Queue and slot figures now, and one-minute buckets over the last 24 hours.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/stats",
    tag = "health",
    params(crate::extract::SitePath),
    responses((status = 200, description = "Now and the last 24 hours", body = Stats)),
    security(("bearer" = []))
)]
async fn stats_show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
) -> Result<Json<Stats>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(monitor::stats(state.pool(), &access.site).await?))
}

/// The Site's Audit Services: slots, busy slots, state and last heartbeat.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/audit-services",
    tag = "health",
    params(crate::extract::SitePath),
    responses((status = 200, description = "Every Audit Service of the Site", body = AuditServicesResponse)),
    security(("bearer" = []))
)]
async fn audit_services_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
) -> Result<Json<AuditServicesResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(AuditServicesResponse {
        audit_services: crate::audit_service::snapshots(state.pool(), &access.site).await?,
    }))
}
