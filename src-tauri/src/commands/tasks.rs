//! Commands on the shown Site's tasks: the live list, reading and counting
//! the Active tasks, one task, cancelling, running tasks, Audit Services
//! and the stats.

use site_api::{CancelResponse, TaskId};
use taskdeck_ipc::request::{self, Request};
use taskdeck_ipc::{ActiveTasksSnapshot, LinkStatus, SignalsNow};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::Error;
use crate::site_client::SiteClient;
use crate::state::DesktopState;

/// The latest Active tasks list, if one was read yet.
#[tauri::command]
pub(crate) fn active_tasks(state: State<'_, DesktopState>) -> Option<ActiveTasksSnapshot> {
    state.snapshot()
}

/// Cancels tasks of the Site the window shows (Site Administrators): one
/// outcome per task, in order. A refusal re-reads the user's role, so a
/// revoked administrator loses the Cancel button at once.
#[tauri::command]
pub(crate) async fn cancel_tasks(
    app: AppHandle,
    request: request::CancelTasks,
) -> Result<<request::CancelTasks as Request>::Answer, Error> {
    let request::CancelTasks { tasks } = request;
    let ids = tasks;
    if ids.is_empty() {
        return Err(Error::InvalidInput("Select at least one task.".to_owned()));
    }
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    cancel_in_batches(&app, &client, &site_id, &ids).await
}

/// Cancels `ids` on `site_id` in batches the contract allows; a refusal
/// re-reads the user's role.
async fn cancel_in_batches(
    app: &AppHandle,
    client: &SiteClient,
    site_id: &str,
    ids: &[TaskId],
) -> Result<CancelResponse, Error> {
    let mut results = Vec::with_capacity(ids.len());
    for batch in ids.chunks(site_api::MAX_CANCEL_BATCH) {
        match client.cancel_tasks(site_id, batch.to_vec()).await {
            Ok(response) => results.extend(response.results),
            Err(error @ Error::Forbidden(_)) => {
                super::connections::refresh_role(app, client, site_id).await;
                return Err(error);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(CancelResponse { results })
}

/// The signals in force on the shown Site, as last read.
#[tauri::command]
pub(crate) fn signals(state: State<'_, DesktopState>) -> Option<SignalsNow> {
    state.signals()
}

/// The shown Site's live link.
#[tauri::command]
pub(crate) fn link_status(state: State<'_, DesktopState>) -> Option<LinkStatus> {
    state.link()
}

/// The shown Site's Active tasks that match `query`, filtered and sorted
/// by the Site (right at any queue size). `rows` is how many the list
/// wants (at most [`MAX_LISTED`](crate::listing::MAX_LISTED)): beyond the
/// Site's page of 1,000 they are read page after page, following its
/// cursors; the answer is one page holding them all, its `total` the
/// Site's count of what matches. A 1.0 Site refuses a query with a 1.1
/// filter: [`Error::OlderSite`].
#[tauri::command]
pub(crate) async fn list_tasks(
    app: AppHandle,
    request: request::ListTasks,
) -> Result<<request::ListTasks as Request>::Answer, Error> {
    let request::ListTasks { query } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let rows = query
        .rows
        .map_or(crate::listing::SITE_PAGE as usize, |rows| rows as usize);
    let mut tasks = Vec::new();
    let mut last = crate::listing::read_matching(
        &client,
        &site_id,
        &query,
        rows.clamp(1, crate::listing::MAX_LISTED),
        |page| tasks.append(page),
    )
    .await?;
    last.tasks = tasks;
    Ok(last)
}

/// (1.1) The filter menus' counts: for each of `fields`, how many of the
/// shown Site's Active tasks matching `query` without its own filter have
/// each value. One facets request at a time per Site (the client's lane).
#[tauri::command]
pub(crate) async fn task_facets(
    app: AppHandle,
    request: request::TaskFacets,
) -> Result<<request::TaskFacets as Request>::Answer, Error> {
    let request::TaskFacets { query, fields } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    crate::listing::facets(&client, &site_id, &query, &fields).await
}

/// One task of the shown Site, active or ended (the detail drawer).
#[tauri::command]
pub(crate) async fn task_detail(
    app: AppHandle,
    request: request::TaskDetail,
) -> Result<<request::TaskDetail as Request>::Answer, Error> {
    let request::TaskDetail { task } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.task(&site_id, task).await
}

/// Cancels every task of the shown Site that matches `query` (Site
/// Administrators): reads their ids page by page (at most
/// [`MAX_MATCHING`]), then cancels them in batches; one outcome per task.
#[tauri::command]
pub(crate) async fn cancel_matching(
    app: AppHandle,
    request: request::CancelMatching,
) -> Result<<request::CancelMatching as Request>::Answer, Error> {
    let request::CancelMatching { query } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let mut ids: Vec<TaskId> = Vec::new();
    crate::listing::read_matching(&client, &site_id, &query, MAX_MATCHING, |page| {
        ids.extend(
            page.iter()
                .filter(|task| !task.status.is_terminal())
                .map(|task| task.id),
        )
    })
    .await?;
    cancel_in_batches(&app, &client, &site_id, &ids).await
}

/// The most tasks one "all matching" cancel reaches.
pub(crate) const MAX_MATCHING: usize = 100_000;

/// The shown Site's Audit Services.
#[tauri::command]
pub(crate) async fn audit_services(
    app: AppHandle,
) -> Result<site_api::AuditServicesResponse, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.audit_services(&site_id).await
}

/// The tasks an Audit Service of the shown Site is running now, oldest
/// first (the 1.1 `audit_service` filter), at most a page of them.
#[tauri::command]
pub(crate) async fn audit_service_tasks(
    app: AppHandle,
    request: request::AuditServiceTasks,
) -> Result<<request::AuditServiceTasks as Request>::Answer, Error> {
    let request::AuditServiceTasks { audit_service } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.page(&site_id, &running_on(audit_service)).await
}

/// The query of the tasks `audit_service` runs, oldest first.
fn running_on(audit_service: String) -> site_api::ActiveTasksQuery {
    site_api::ActiveTasksQuery {
        filter: site_api::TaskFilter {
            statuses: vec![site_api::TaskStatus::Running],
            audit_service: Some(audit_service),
            ..site_api::TaskFilter::default()
        },
        sort: site_api::SortKey::StartDate,
        order: site_api::Order::Asc,
        limit: site_api::PageLimit::MAX,
        cursor: None,
    }
}

/// The shown Site's queue and slots now, and the last 24 h by minute.
#[tauri::command]
pub(crate) async fn stats(app: AppHandle) -> Result<site_api::Stats, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.stats(&site_id).await
}

/// Creates tasks on the shown Site, in order, in batches of 500 (both roles
/// may): the window hears [`RUN_PROGRESS`](taskdeck_ipc::events::RUN_PROGRESS)
/// after each batch and while a 429 is waited out. The summary says what
/// was created, and what was not and why.
#[tauri::command]
pub(crate) async fn run_tasks(
    app: AppHandle,
    request: request::RunTasks,
) -> Result<<request::RunTasks as Request>::Answer, Error> {
    let request::RunTasks { tasks } = request;
    if tasks.is_empty() {
        return Err(Error::InvalidInput("There is no task to run.".to_owned()));
    }
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let summary = crate::run_tasks::run_tasks(&client, &site_id, &tasks, |progress| {
        if let Err(error) = app.emit(taskdeck_ipc::events::RUN_PROGRESS, progress) {
            tracing::warn!(%error, "the window did not hear of the run's progress");
        }
    })
    .await;
    Ok(summary)
}
