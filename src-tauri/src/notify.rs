//! Clicks on failure notifications: the window comes forward on the task's
//! Site, showing its log row (or its Active tasks row while it still runs).
//!
//! Each notification carries its connection, Site and task as extras, and
//! the `task-failed` action type, whose `default` action is what a click on
//! the notification invokes (freedesktop servers); the notification plugin
//! reports it as `tap` on every desktop.

use std::sync::atomic::{AtomicI32, Ordering};

use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::{Action, ActionPerformed, ActionType, NotificationExt};

/// The action type of failure notifications.
pub const OPEN_TASK_ACTIONS: &str = "task-failed";
/// Extra: the connection id.
pub const EXTRA_CONNECTION: &str = "connection";
/// Extra: the Site id.
pub const EXTRA_SITE: &str = "site";
/// Extra: the task id.
pub const EXTRA_TASK: &str = "task";

/// A fresh notification id.
pub fn next_id() -> i32 {
    static NEXT: AtomicI32 = AtomicI32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Registers the click action and its handler.
pub fn install(app: &AppHandle) -> tauri_plugin_notification::Result<()> {
    let notifications = app.notification();
    notifications.register_action_types(vec![ActionType::builder(OPEN_TASK_ACTIONS)
        .actions(vec![Action::builder("default", "Show the task").build()])
        .build()])?;
    let app = app.clone();
    notifications.on_action(move |performed| {
        if let Some((connection, site, task)) = clicked_task(performed) {
            let app = app.clone();
            tauri::async_runtime::spawn(
                async move { open_task(&app, &connection, &site, task).await },
            );
        }
    })
}

/// The connection, Site and task of a click on a failure notification.
fn clicked_task(performed: &ActionPerformed) -> Option<(String, String, site_api::TaskId)> {
    if !matches!(performed.action_id(), "tap" | "default") {
        return None;
    }
    let extra = performed.notification()?.extra();
    let text = |key: &str| extra.get(key)?.as_str().map(str::to_owned);
    Some((
        text(EXTRA_CONNECTION)?,
        text(EXTRA_SITE)?,
        text(EXTRA_TASK)?.parse().ok()?,
    ))
}

/// Brings the window forward on the task: its Site shown, then the UI told
/// which row to show.
async fn open_task(app: &AppHandle, connection: &str, site: &str, task: site_api::TaskId) {
    crate::show_main_window(app);
    let state = tauri::Manager::state::<crate::state::DesktopState>(app);
    if !state.sites.is_shown(connection, site) {
        if let Err(error) = crate::sites::show(app, connection, site) {
            tracing::warn!(%error, "cannot show the notified task's Site");
            return;
        }
    }
    let ended = match state.sites.client(connection) {
        Some(client) => match client.task(site, task).await {
            Ok(read) => read.status.is_terminal(),
            // Gone from the Site's memory: only the log can have it.
            Err(_) => true,
        },
        None => true,
    };
    let open = taskdeck_ipc::OpenTask {
        site_id: site.to_owned(),
        task,
        ended,
    };
    if let Err(error) = app.emit(taskdeck_ipc::events::OPEN_TASK, open) {
        tracing::warn!(%error, "cannot tell the window which task to show");
    }
}

/// Shows the native notification of a failed task of `connection_id`;
/// clicking it opens the task (see [`install`]).
pub fn show_failure(
    app: &tauri::AppHandle,
    connection_id: &str,
    notice: &crate::live::failures::FailureNotice,
) -> Result<(), tauri_plugin_notification::Error> {
    use tauri_plugin_notification::NotificationExt;
    app.notification()
        .builder()
        .id(next_id())
        .title(&notice.title)
        .body(&notice.body)
        .action_type_id(OPEN_TASK_ACTIONS)
        .extra(EXTRA_CONNECTION, connection_id)
        .extra(EXTRA_SITE, &notice.site_id)
        .extra(EXTRA_TASK, notice.task.to_string())
        .show()
}
