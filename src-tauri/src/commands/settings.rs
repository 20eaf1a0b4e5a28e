//! Commands on the app's own settings: notifications, personal views and the theme.

use taskdeck_ipc::request::{self, Request};
use tauri::{AppHandle, State};

use crate::error::Error;
use crate::live::failures::NotifySettings;
use crate::state::DesktopState;

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
    request: request::SetNotificationSettings,
) -> Result<<request::SetNotificationSettings as Request>::Answer, Error> {
    let request::SetNotificationSettings { settings } = request;
    state.update_settings(|saved| saved.notifications = settings.clone())?;
    *state
        .notify_settings
        .write()
        .unwrap_or_else(|e| e.into_inner()) = settings;
    Ok(())
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
    request: request::Views,
) -> Result<<request::Views as Request>::Answer, Error> {
    let request::Views { connection } = request;
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
    request: request::SetViews,
) -> Result<<request::SetViews as Request>::Answer, Error> {
    let request::SetViews { connection, views } = request;
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

/// The window's colours.
#[tauri::command]
pub(crate) fn theme(state: State<'_, DesktopState>) -> taskdeck_ipc::Theme {
    state.settings_now().theme
}

/// Sets the window's colours; saved durably before the answer.
#[tauri::command]
pub(crate) fn set_theme(
    state: State<'_, DesktopState>,
    request: request::SetTheme,
) -> Result<<request::SetTheme as Request>::Answer, Error> {
    let request::SetTheme { theme } = request;
    state.update_settings(|settings| settings.theme = theme)
}

/// Saves a view as a JSON file in the Downloads folder (to keep or share);
/// returns the file's path.
#[tauri::command]
pub(crate) async fn save_view_file(
    app: AppHandle,
    request: request::SaveViewFile,
) -> Result<<request::SaveViewFile as Request>::Answer, Error> {
    let request::SaveViewFile { view } = request;
    let json = serde_json::to_vec_pretty(&view)
        .map_err(|e| Error::InvalidInput(format!("Cannot write the view: {e}.")))?;
    crate::export::save_to_downloads(&app, json, |folder| {
        crate::export::view_file_for(folder, &view.name)
    })
    .await
}
