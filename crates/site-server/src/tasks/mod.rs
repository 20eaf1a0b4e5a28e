//! Tasks of a Site: the Active tasks list and its facets, triggering (one
//! task or a batch), one task, cancel, and the logs. Handlers parse, call
//! one function of a submodule (or of `lifecycle`) and answer.

mod active;
mod counts;
mod cursor;
mod facets;
mod filter;
mod logs;
mod search;

use std::hash::{Hash, Hasher};

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use site_api::{
    ActiveTasksPage, ActiveTasksQuery, CancelRequest, CancelResponse, CreateTaskRequest,
    CreateTasksRequest, CreateTasksResponse, FacetsQuery, FacetsResponse, Initiator, LogPage,
    LogQuery, Task, TaskKind, MAX_CANCEL_BATCH, MAX_CREATE_BATCH,
};

use crate::auth::Caller;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, SitePath, TaskPath};
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
        .route(
            "/api/v1/sites/{site}/active-tasks/facets",
            get(active_tasks_facets),
        )
        .route("/api/v1/sites/{site}/tasks", post(tasks_create))
        .route("/api/v1/sites/{site}/tasks/batch", post(tasks_create_batch))
        .route("/api/v1/sites/{site}/tasks/{id}", get(tasks_show))
        .route("/api/v1/sites/{site}/scan-log", get(scan_log_list))
        .route("/api/v1/sites/{site}/audit-log", get(audit_log_list))
}

/// The Active tasks list: queued and running tasks, filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/active-tasks",
    tag = "tasks",
    params(crate::extract::SitePath, ActiveTasksQuery),
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
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ActiveTasksQuery>,
) -> Result<Response, AppError> {
    let access = caller.site_access(&state, &site).await?;
    let page: ActiveTasksPage = active::active_tasks(state.pool(), &access.site, &query).await?;
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

/// (1.1) How many matching active tasks have each value of a field, with
/// every filter but the field's own.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/active-tasks/facets",
    tag = "tasks",
    params(crate::extract::SitePath, FacetsQuery),
    responses((status = 200, description = "At most 100 values, by count descending, then value ascending", body = FacetsResponse)),
    security(("bearer" = []))
)]
async fn active_tasks_facets(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiQuery(query): ApiQuery<FacetsQuery>,
) -> Result<Json<FacetsResponse>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(
        facets::facets(state.pool(), &access.site, &query).await?,
    ))
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
    params(crate::extract::SitePath),
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
    ApiPath(SitePath { site }): ApiPath<SitePath>,
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

/// Checks a task to create and makes it the caller's; `at` names it in
/// messages (`in tasks[3]: ` in a batch).
fn new_task(
    state: &AppState,
    caller: &Caller,
    request: CreateTaskRequest,
    at: &str,
) -> Result<NewTask, AppError> {
    if request.simulate.is_some() && !state.mode().allows_simulate() {
        return Err(AppError::InvalidRequest(format!(
            "{at}simulate is only accepted by servers in demo or test mode"
        )));
    }
    for (field, value) in [
        ("target.name", &request.target.name),
        ("scope", &request.scope),
    ] {
        if value.trim().is_empty() || value.chars().count() > MAX_TEXT_LEN {
            return Err(AppError::InvalidRequest(format!(
                "{at}{field} must be 1 to {MAX_TEXT_LEN} characters"
            )));
        }
    }
    Ok(NewTask {
        kind: request.kind,
        target: request.target,
        scope: request.scope,
        initiator: Initiator::User(caller.email.clone()),
        schedule: None,
        simulate: request.simulate,
    })
}

/// Triggers an ad-hoc scan or audit; the caller is its Initiator.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/tasks",
    tag = "tasks",
    params(crate::extract::SitePath),
    request_body = CreateTaskRequest,
    responses((status = 201, description = "The new task, queued or already running", body = Task)),
    security(("bearer" = []))
)]
async fn tasks_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiJson(request): ApiJson<CreateTaskRequest>,
) -> Result<(StatusCode, Json<Task>), AppError> {
    let access = caller.site_access(&state, &site).await?;
    let new = new_task(&state, &caller, request, "")?;
    let task = lifecycle::create(state.pool(), &access.site, new).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// A batch as sent: each element is read on its own, so that a bad one is
/// named by its index.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    tasks: Vec<serde_json::Value>,
}

/// (1.1) Triggers 1..500 tasks in one transaction, all or none, numbered
/// in request order; one request for the rate limit.
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/tasks/batch",
    tag = "tasks",
    params(crate::extract::SitePath),
    request_body = CreateTasksRequest,
    responses(
        (status = 201, description = "The new tasks, in request order", body = CreateTasksResponse),
        (status = 400, description = "invalid_request: the message names the bad element (`tasks[3]`); nothing was created", body = site_api::ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn tasks_create_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<(StatusCode, Json<CreateTasksResponse>), AppError> {
    let access = caller.site_access(&state, &site).await?;
    if body.tasks.is_empty() || body.tasks.len() > MAX_CREATE_BATCH {
        return Err(AppError::InvalidRequest(format!(
            "tasks must list 1 to {MAX_CREATE_BATCH} tasks, not {}",
            body.tasks.len()
        )));
    }
    let mut news = Vec::with_capacity(body.tasks.len());
    for (index, element) in body.tasks.into_iter().enumerate() {
        let at = format!("in tasks[{index}]: ");
        let request: CreateTaskRequest = serde_json::from_value(element).map_err(|error| {
            AppError::InvalidRequest(format!("{at}the task is not valid: {error}"))
        })?;
        news.push(new_task(&state, &caller, request, &at)?);
    }
    let tasks = lifecycle::create_many(state.pool(), &access.site, news).await?;
    Ok((StatusCode::CREATED, Json(CreateTasksResponse { tasks })))
}

/// One task, active or terminal.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/tasks/{id}",
    tag = "tasks",
    params(crate::extract::TaskPath),
    responses((status = 200, description = "The task", body = Task)),
    security(("bearer" = []))
)]
async fn tasks_show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(TaskPath { site, id }): ApiPath<TaskPath>,
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
    params(crate::extract::SitePath, LogQuery),
    responses((status = 200, description = "One page of Scan log rows", body = LogPage)),
    security(("bearer" = []))
)]
async fn scan_log_list(
    state: State<AppState>,
    caller: Caller,
    site: ApiPath<SitePath>,
    query: ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, AppError> {
    log_list(state, caller, site, query, TaskKind::Scan).await
}

/// The Audit log: terminal audit tasks, newest end date first.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/audit-log",
    tag = "logs",
    params(crate::extract::SitePath, LogQuery),
    responses((status = 200, description = "One page of Audit log rows", body = LogPage)),
    security(("bearer" = []))
)]
async fn audit_log_list(
    state: State<AppState>,
    caller: Caller,
    site: ApiPath<SitePath>,
    query: ApiQuery<LogQuery>,
) -> Result<Json<LogPage>, AppError> {
    log_list(state, caller, site, query, TaskKind::Audit).await
}

async fn log_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiQuery(query): ApiQuery<LogQuery>,
    kind: TaskKind,
) -> Result<Json<LogPage>, AppError> {
    let access = caller.site_access(&state, &site).await?;
    Ok(Json(
        logs::log_entries(state.pool(), &access.site, kind, &query).await?,
    ))
}
