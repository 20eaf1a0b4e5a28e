//! Tasks of a Site: the Active tasks list, triggering, one task, and the logs.

mod list;

use list::ActiveTasksQuery;

use std::hash::{Hash, Hasher};

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use site_api::{
    ActiveTasksPage, CancelRequest, CancelResponse, CreateTaskRequest, Initiator, LogPage, Task,
    TaskKind, MAX_CANCEL_BATCH,
};

use crate::auth::Caller;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::lifecycle::{self, NewTask};
use crate::state::{parse_task_id, AppState};

/// The task routes under `/api/v1/sites/{site}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sites/{site}/active-tasks", get(active_tasks_list))
        .route(
            "/api/v1/sites/{site}/active-tasks/cancel",
            post(active_tasks_cancel),
        )
        .route("/api/v1/sites/{site}/tasks", post(tasks_create))
        .route("/api/v1/sites/{site}/tasks/{id}", get(tasks_show))
        .route("/api/v1/sites/{site}/scan-log", get(scan_log_list))
        .route("/api/v1/sites/{site}/audit-log", get(audit_log_list))
}

/// The Active tasks list: queued and running tasks, filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/active-tasks",
    tag = "tasks",
    params(crate::openapi::SitePath, list::ActiveTasksParams),
    responses(
        (status = 200, description = "One page of active tasks", body = ActiveTasksPage,
            headers(("ETag" = String, description = "Changes exactly when the page can change"))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
    ),
    security(("bearer" = []))
)]
async fn active_tasks_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<list::ActiveTasksParams>,
) -> Result<Response, AppError> {
    let access = caller.site_access(&state, &site).await?;
    let query = ActiveTasksQuery::try_from(query)?;
    let page: ActiveTasksPage = list::active_tasks(state.pool(), &access.site, &query).await?;
    let etag = page_etag(page.revision, raw_query.as_deref().unwrap_or(""));
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(page).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// A page is the same exactly when the Site's revision and the query are.
fn page_etag(revision: u64, query: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    query.hash(&mut hasher);
    format!("\"{revision}-{:016x}\"", hasher.finish())
}

/// Cancels up to 500 tasks; one result per id, in request order.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/active-tasks/cancel",
    tag = "tasks",
    params(crate::openapi::SitePath),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "Each task's outcome; running tasks are stopped before the answer", body = CancelResponse),
        (status = 403, description = "forbidden: only Site Administrators may cancel", body = site_api::ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn active_tasks_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
    ApiJson(request): ApiJson<CancelRequest>,
) -> Result<Json<CancelResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    access.require_admin()?;
    if request.tasks.is_empty() || request.tasks.len() > MAX_CANCEL_BATCH {
        return Err(AppError::InvalidRequest(format!(
            "tasks must list 1 to {MAX_CANCEL_BATCH} task ids"
        )));
    }
    let results =
        lifecycle::cancel(state.pool(), &access.site, &request.tasks, &caller.email).await?;
    Ok(Json(CancelResponse { results }))
}

/// Longest accepted target name or scope.
const MAX_TEXT_LEN: usize = 256;

/// Triggers an ad-hoc scan or audit; the caller is its Initiator.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/tasks",
    tag = "tasks",
    params(crate::openapi::SitePath),
    request_body = CreateTaskRequest,
    responses((status = 201, description = "The new task, queued or already running", body = Task)),
    security(("bearer" = []))
)]
async fn tasks_create(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
    ApiJson(request): ApiJson<CreateTaskRequest>,
) -> Result<(StatusCode, Json<Task>), AppError> {
    let access = caller.site_access(&state, &site).await?;
    if request.simulate.is_some() && !state.mode().allows_simulate() {
        return Err(AppError::InvalidRequest(
            "simulate is only accepted by servers in demo or test mode".to_owned(),
        ));
    }
    for (field, value) in [
        ("target.name", &request.target.name),
        ("scope", &request.scope),
    ] {
        if value.trim().is_empty() || value.chars().count() > MAX_TEXT_LEN {
            return Err(AppError::InvalidRequest(format!(
                "{field} must be 1 to {MAX_TEXT_LEN} characters"
            )));
        }
    }
    let task = lifecycle::create(
        state.pool(),
        &access.site,
        NewTask {
            kind: request.kind,
            target: request.target,
            scope: request.scope,
            initiator: Initiator::User(caller.email),
            schedule: None,
            simulate: request.simulate,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// One task, active or terminal.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/tasks/{id}",
    tag = "tasks",
    params(crate::openapi::TaskPath),
    responses((status = 200, description = "The task", body = Task)),
    security(("bearer" = []))
)]
async fn tasks_show(
    State(state): State<AppState>,
    caller: Caller,
    Path((site, id)): Path<(String, String)>,
) -> Result<Json<Task>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    let id = parse_task_id(&id)?;
    Ok(Json(lifecycle::get(state.pool(), &access.site, id).await?))
}

/// The Scan log: terminal scan tasks, newest end date first.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/scan-log",
    tag = "logs",
    params(crate::openapi::SitePath, list::LogParams),
    responses((status = 200, description = "One page of Scan log rows", body = LogPage)),
    security(("bearer" = []))
)]
async fn scan_log_list(
    state: State<AppState>,
    caller: Caller,
    site: Path<String>,
    query: ApiQuery<list::LogParams>,
) -> Result<Json<LogPage>, AppError> {
    log_list(state, caller, site, query, TaskKind::Scan).await
}

/// The Audit log: terminal audit tasks, newest end date first.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/audit-log",
    tag = "logs",
    params(crate::openapi::SitePath, list::LogParams),
    responses((status = 200, description = "One page of Audit log rows", body = LogPage)),
    security(("bearer" = []))
)]
async fn audit_log_list(
    state: State<AppState>,
    caller: Caller,
    site: Path<String>,
    query: ApiQuery<list::LogParams>,
) -> Result<Json<LogPage>, AppError> {
    log_list(state, caller, site, query, TaskKind::Audit).await
}

async fn log_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
    ApiQuery(query): ApiQuery<list::LogParams>,
    kind: TaskKind,
) -> Result<Json<LogPage>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    let query = list::LogQuery::try_from(query)?;
    Ok(Json(
        list::log_entries(state.pool(), &access.site, kind, &query).await?,
    ))
}
