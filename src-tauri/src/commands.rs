//! The commands the UI invokes: thin, typed, and never carrying a secret.

use site_api::{CancelResponse, TaskId};
use taskdeck_ipc::{
    ActiveTasksSnapshot, ConnectionCheck, ConnectionStatus, ConnectionView, Identity, LinkStatus,
    ListQuery, SignalsNow, SiteSummary,
};
use tauri::{AppHandle, Manager, State};

use crate::connections::{self, ConnectionDraft};
use crate::error::Error;
use crate::live::failures::NotifySettings;
use crate::settings::ConnectionSettings;
use crate::site_client::SiteClient;
use crate::state::DesktopState;
use site_api::LogQuery;

/// Where the app stands with its Site.
#[tauri::command]
pub(crate) fn connection_status(state: State<'_, DesktopState>) -> ConnectionStatus {
    state.status()
}

/// Which failures raise a notification.
#[tauri::command]
pub(crate) fn notification_settings(state: State<'_, DesktopState>) -> NotifySettings {
    state
        .notify_settings
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Changes which failures raise a notification; saved durably before the
/// answer, and in force at once.
#[tauri::command]
pub(crate) fn set_notification_settings(
    state: State<'_, DesktopState>,
    settings: NotifySettings,
) -> Result<(), Error> {
    state.update_settings(|saved| saved.notifications = settings.clone())?;
    *state
        .notify_settings
        .write()
        .unwrap_or_else(|e| e.into_inner()) = settings;
    Ok(())
}

/// The latest Active tasks list, if one was read yet.
#[tauri::command]
pub(crate) fn active_tasks(state: State<'_, DesktopState>) -> Option<ActiveTasksSnapshot> {
    state.snapshot()
}

/// The saved Site connections (the Demo Site is always there besides them).
#[tauri::command]
pub(crate) fn connections(state: State<'_, DesktopState>) -> Vec<ConnectionView> {
    state.settings_now().connections.iter().map(view).collect()
}

/// Fetches a token and `/me` with a draft's credentials; saves nothing.
#[tauri::command]
pub(crate) async fn test_connection(draft: ConnectionDraft) -> Result<ConnectionCheck, Error> {
    let me = draft.test().await?;
    Ok(ConnectionCheck {
        identity: Identity {
            email: me.email,
            display_name: me.display_name,
        },
        sites: me.sites.into_iter().map(SiteSummary::from).collect(),
    })
}

/// Tests a draft, saves it (the secret to the OS keyring, the rest to the
/// settings, durably) and starts watching its Sites.
#[tauri::command]
pub(crate) async fn add_connection(
    app: AppHandle,
    draft: ConnectionDraft,
) -> Result<ConnectionView, Error> {
    let id = connections::new_connection_id();
    let (saved, me) = draft.save(&id).await?;
    let state = app.state::<DesktopState>();
    state.update_settings(|settings| settings.connections.push(saved.clone()))?;
    follow_and_show(&app, &saved, me)?;
    Ok(view(&saved))
}

/// Follows a connection just tested and shows its first Site: adding or
/// editing a connection means wanting to see it.
fn follow_and_show(
    app: &AppHandle,
    saved: &ConnectionSettings,
    me: site_api::Me,
) -> Result<(), Error> {
    let first = me.sites.first().map(|site| site.id.clone());
    crate::watch_connection(app, saved.clone(), Some(me));
    match first {
        Some(site) => show(app, &saved.id, &site),
        None => Ok(()),
    }
}

/// Tests a changed connection and saves it; a blank secret keeps the saved
/// one (for the same client id). Its Sites are followed afresh.
#[tauri::command]
pub(crate) async fn update_connection(
    app: AppHandle,
    id: String,
    mut draft: ConnectionDraft,
) -> Result<ConnectionView, Error> {
    let state = app.state::<DesktopState>();
    let existing = state
        .settings_now()
        .connections
        .into_iter()
        .find(|connection| connection.id == id)
        .ok_or_else(|| Error::NotFound(format!("there is no connection {id}")))?;
    // No CA given: keep the saved one; a blank one: remove it.
    draft.extra_ca_pem = match draft.extra_ca_pem.take() {
        None => existing.extra_ca_pem.clone(),
        Some(pem) if pem.trim().is_empty() => None,
        Some(pem) => Some(pem),
    };
    if draft.client_secret.is_empty() {
        if draft.client_id.trim() != existing.client_id {
            return Err(Error::InvalidInput(
                "A new client id needs its client secret.".to_owned(),
            ));
        }
        let kept = existing.clone();
        draft.client_secret = tokio::task::spawn_blocking(move || connections::saved_secret(&kept))
            .await
            .map_err(|e| Error::Keyring(e.to_string()))??;
    }
    let (saved, me) = draft.save(&id).await?;
    state.update_settings(|settings| {
        for connection in &mut settings.connections {
            if connection.id == id {
                *connection = saved.clone();
            }
        }
    })?;
    if existing.client_id != saved.client_id {
        // The old registration's secret is no longer needed.
        let old = existing.clone();
        let forgotten = tokio::task::spawn_blocking(move || connections::forget_secret(&old)).await;
        if !matches!(forgotten, Ok(Ok(()))) {
            tracing::warn!(connection = %id, "the old client secret could not be removed from the keyring");
        }
    }
    state.sites.forget(&id);
    follow_and_show(&app, &saved, me)?;
    Ok(view(&saved))
}

/// Every Site the window can show: the Demo Site's, then each connected
/// saved connection's.
#[tauri::command]
pub(crate) fn sites(state: State<'_, DesktopState>) -> Vec<taskdeck_ipc::SiteChoice> {
    state.sites.choices()
}

/// Shows a Site in the window (and reopens it at the next start).
#[tauri::command]
pub(crate) fn show_site(app: AppHandle, connection: String, site: String) -> Result<(), Error> {
    show(&app, &connection, &site)
}

fn show(app: &AppHandle, connection: &str, site: &str) -> Result<(), Error> {
    crate::sites::show(app, connection, site)?;
    let shown = crate::settings::ShownSetting {
        connection_id: connection.to_owned(),
        site_id: site.to_owned(),
    };
    app.state::<DesktopState>()
        .update_settings(|settings| settings.shown = Some(shown))
}

/// Stops watching a connection and removes it and its secret.
#[tauri::command]
pub(crate) async fn remove_connection(app: AppHandle, id: String) -> Result<(), Error> {
    let state = app.state::<DesktopState>();
    if let Some(stop) = state
        .watchers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id)
    {
        stop.cancel();
    }
    let removed = state
        .settings_now()
        .connections
        .into_iter()
        .find(|connection| connection.id == id);
    let Some(removed) = removed else {
        return Err(Error::NotFound(format!("there is no connection {id}")));
    };
    state.update_settings(|settings| {
        settings.connections.retain(|c| c.id != id);
        settings.views.remove(&id);
        if settings
            .shown
            .as_ref()
            .is_some_and(|s| s.connection_id == id)
        {
            settings.shown = None;
        }
    })?;
    state.sites.forget(&id);
    let was_shown = state
        .sites
        .shown()
        .is_some_and(|shown| shown.connection_id == id);
    if was_shown {
        // Back to the Demo Site.
        let demo = state
            .sites
            .choices()
            .into_iter()
            .find(|choice| choice.connection_id == crate::demo_site::DEMO_CONNECTION_ID);
        if let Some(demo) = demo {
            crate::sites::show(&app, &demo.connection_id, &demo.site.id)?;
        }
    }
    if let Err(error) = tauri::Emitter::emit(&app, taskdeck_ipc::events::SITES, ()) {
        tracing::warn!(%error, "cannot tell the window of the removed Sites");
    }
    tokio::task::spawn_blocking(move || connections::forget_secret(&removed))
        .await
        .map_err(|e| Error::Keyring(e.to_string()))?
}

fn view(connection: &ConnectionSettings) -> ConnectionView {
    ConnectionView {
        id: connection.id.clone(),
        name: connection.name.clone(),
        server_url: connection.server_url.clone(),
        client_id: connection.client_id.clone(),
        has_extra_ca: connection.extra_ca_pem.is_some(),
    }
}

/// Cancels tasks of the Site the window shows (Site Administrators): one
/// outcome per task, in order. A refusal re-reads the user's role, so a
/// revoked administrator loses the Cancel button at once.
#[tauri::command]
pub(crate) async fn cancel_tasks(
    app: AppHandle,
    tasks: Vec<String>,
) -> Result<CancelResponse, Error> {
    let ids = tasks
        .iter()
        .map(|id| {
            id.parse::<TaskId>()
                .map_err(|_| Error::InvalidInput(format!("{id:?} is not a task id.")))
        })
        .collect::<Result<Vec<TaskId>, Error>>()?;
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
                refresh_role(app, client, site_id).await;
                return Err(error);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(CancelResponse { results })
}

/// Reads the user's role on `site_id` again and tells the window.
pub(crate) async fn refresh_role(app: &AppHandle, client: &SiteClient, site_id: &str) {
    let Ok(me) = client.me().await else {
        return;
    };
    let role = me
        .sites
        .iter()
        .find(|site| site.id == site_id)
        .map(|site| site.role);
    crate::state::update_status(app, |status| {
        if let (Some(site), Some(role)) = (status.site.as_mut(), role) {
            site.role = role;
        }
    });
}

/// The signals in force on the shown Site, as last read.
#[tauri::command]
pub(crate) fn signals(state: State<'_, DesktopState>) -> Option<SignalsNow> {
    state
        .signals
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The shown Site's live link.
#[tauri::command]
pub(crate) fn link_status(state: State<'_, DesktopState>) -> Option<LinkStatus> {
    state.link.read().unwrap_or_else(|e| e.into_inner()).clone()
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
    query: ListQuery,
) -> Result<site_api::ActiveTasksPage, Error> {
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
    query: ListQuery,
    fields: Vec<site_api::FacetField>,
) -> Result<Vec<site_api::FacetsResponse>, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    crate::listing::facets(&client, &site_id, &query, &fields).await
}

/// A page of the shown Site's Scan log or Audit log, newest end first.
#[tauri::command]
pub(crate) async fn log_entries(
    app: AppHandle,
    kind: site_api::TaskKind,
    query: LogQuery,
) -> Result<site_api::LogPage, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.log(&site_id, kind, &query).await
}

/// Fails unless `connection` is the Demo Site or a saved connection.
fn known_connection(state: &DesktopState, connection: &str) -> Result<(), Error> {
    let known = connection == crate::demo_site::DEMO_CONNECTION_ID
        || state
            .settings_now()
            .connections
            .iter()
            .any(|saved| saved.id == connection);
    if known {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "there is no connection {connection}"
        )))
    }
}

/// A connection's personal views and which one opens at start.
#[tauri::command]
pub(crate) fn views(
    state: State<'_, DesktopState>,
    connection: String,
) -> Result<taskdeck_ipc::SiteViews, Error> {
    known_connection(&state, &connection)?;
    Ok(state
        .settings_now()
        .views
        .remove(&connection)
        .unwrap_or_default())
}

/// Replaces a connection's personal views; checked, then saved durably
/// before the answer.
#[tauri::command]
pub(crate) fn set_views(
    state: State<'_, DesktopState>,
    connection: String,
    views: taskdeck_ipc::SiteViews,
) -> Result<(), Error> {
    known_connection(&state, &connection)?;
    if let Some(problem) = views.problem() {
        return Err(Error::InvalidInput(format!(
            "The views cannot be saved: {problem}."
        )));
    }
    state.update_settings(|settings| {
        settings.views.insert(connection, views);
    })
}

/// One task of the shown Site, active or ended (the detail drawer).
#[tauri::command]
pub(crate) async fn task_detail(app: AppHandle, task: String) -> Result<site_api::Task, Error> {
    let id = task
        .parse::<TaskId>()
        .map_err(|_| Error::InvalidInput(format!("{task:?} is not a task id.")))?;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.task(&site_id, id).await
}

/// Cancels every task of the shown Site that matches `query` (Site
/// Administrators): reads their ids page by page (at most
/// [`MAX_MATCHING`]), then cancels them in batches; one outcome per task.
#[tauri::command]
pub(crate) async fn cancel_matching(
    app: AppHandle,
    query: ListQuery,
) -> Result<CancelResponse, Error> {
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
    audit_service: String,
) -> Result<site_api::ActiveTasksPage, Error> {
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

/// The shown Site's schedules.
#[tauri::command]
pub(crate) async fn schedules(app: AppHandle) -> Result<site_api::SchedulesResponse, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.schedules(&site_id).await
}

/// Creates a schedule on the shown Site (Site Administrators).
#[tauri::command]
pub(crate) async fn create_schedule(
    app: AppHandle,
    draft: site_api::ScheduleCreate,
) -> Result<site_api::Schedule, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.create_schedule(&site_id, &draft).await
}

/// Enables or disables a schedule of the shown Site (Site Administrators).
#[tauri::command]
pub(crate) async fn set_schedule_enabled(
    app: AppHandle,
    id: String,
    enabled: bool,
) -> Result<site_api::Schedule, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let change = site_api::ScheduleUpdate {
        enabled: Some(enabled),
        ..site_api::ScheduleUpdate::default()
    };
    client.update_schedule(&site_id, &id, &change).await
}

/// Deletes a schedule of the shown Site (Site Administrators).
#[tauri::command]
pub(crate) async fn delete_schedule(app: AppHandle, id: String) -> Result<(), Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.delete_schedule(&site_id, &id).await
}

/// The window's colours.
#[tauri::command]
pub(crate) fn theme(state: State<'_, DesktopState>) -> taskdeck_ipc::Theme {
    state.settings_now().theme
}

/// Sets the window's colours; saved durably before the answer.
#[tauri::command]
pub(crate) fn set_theme(
    state: State<'_, DesktopState>,
    theme: taskdeck_ipc::Theme,
) -> Result<(), Error> {
    state.update_settings(|settings| settings.theme = theme)
}

/// Exports every row of the shown Site's Scan or Audit log matching
/// `query` as CSV into the Downloads folder; returns the file's path.
#[tauri::command]
pub(crate) async fn export_log(
    app: AppHandle,
    kind: site_api::TaskKind,
    query: LogQuery,
) -> Result<String, Error> {
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let entries = crate::export::read_all(&client, &site_id, kind, query).await?;
    let csv = crate::export::to_csv(&entries)?;
    save_to_downloads(&app, csv, |folder| {
        crate::export::file_for(folder, kind, &site_id)
    })
    .await
}

/// Saves a view as a JSON file in the Downloads folder (to keep or share);
/// returns the file's path.
#[tauri::command]
pub(crate) async fn save_view_file(
    app: AppHandle,
    view: taskdeck_ipc::SavedView,
) -> Result<String, Error> {
    let json = serde_json::to_vec_pretty(&view)
        .map_err(|e| Error::InvalidInput(format!("Cannot write the view: {e}.")))?;
    save_to_downloads(&app, json, |folder| {
        crate::export::view_file_for(folder, &view.name)
    })
    .await
}

/// Writes `bytes` durably into the Downloads folder (the home folder where
/// there is none), as the file `name_in` picks there; returns its path.
async fn save_to_downloads(
    app: &AppHandle,
    bytes: Vec<u8>,
    name_in: impl FnOnce(&std::path::Path) -> std::path::PathBuf,
) -> Result<String, Error> {
    let folder = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| Error::InvalidInput(format!("There is no Downloads folder: {e}.")))?;
    let path = name_in(&folder);
    let written = path.clone();
    tokio::task::spawn_blocking(move || crate::settings::durable_write(&written, &bytes))
        .await
        .map_err(|e| Error::InvalidInput(e.to_string()))?
        .map_err(|e| Error::InvalidInput(format!("Cannot write {}: {e}.", path.display())))?;
    Ok(path.display().to_string())
}

/// Versions, for the About dialog.
#[tauri::command]
pub(crate) fn about() -> taskdeck_ipc::About {
    taskdeck_ipc::About {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        tauri: tauri::VERSION.to_owned(),
        site_server: taskdeck_site::VERSION.to_owned(),
        api: "v1".to_owned(),
        homepage: env!("CARGO_PKG_REPOSITORY").to_owned(),
        licence: env!("CARGO_PKG_LICENSE").to_owned(),
    }
}

/// Opens `url` in the user's browser (the About dialog's links). Only
/// http and https: the window can never make the desktop open a file or
/// run a program through this.
#[tauri::command]
pub(crate) fn open_link(app: AppHandle, url: String) -> Result<(), Error> {
    let link = web_link(&url)?;
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_url(link.as_str(), None::<&str>)
        .map_err(|e| Error::Desktop(format!("{link}: {e}")))
}

/// `url` if it is an http or https link.
pub(crate) fn web_link(url: &str) -> Result<url::Url, Error> {
    let link = url::Url::parse(url.trim())
        .map_err(|e| Error::InvalidInput(format!("{url:?} is not a link: {e}")))?;
    match link.scheme() {
        "http" | "https" => Ok(link),
        other => Err(Error::InvalidInput(format!(
            "only web links open from Taskdeck, not {other}: links"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_open() {
        assert_eq!(
            web_link(" https://github.com/taskdeck/taskdeck ")
                .unwrap()
                .as_str(),
            "https://github.com/taskdeck/taskdeck"
        );
        assert!(web_link("http://127.0.0.1:8443/api/v1/openapi.json").is_ok());
        for refused in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "smb://host/share",
            "not a link",
        ] {
            assert!(
                matches!(web_link(refused), Err(Error::InvalidInput(_))),
                "{refused}"
            );
        }
    }
}
