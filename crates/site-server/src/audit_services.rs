//! `GET /api/v1/sites/{site}/audit-services`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use site_api::AuditServicesResponse;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// The Audit Service routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/sites/{site}/audit-services",
        get(audit_services_list),
    )
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
