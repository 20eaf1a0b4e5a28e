//! `GET /healthz`.

use axum::routing::get;
use axum::{Json, Router};
use site_api::Health;

use crate::state::AppState;

/// The health route.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health_show))
}

/// Whether the server is up, and its version.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses((status = 200, description = "The server is up", body = Health))
)]
async fn health_show() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
