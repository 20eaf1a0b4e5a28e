//! The commands the UI invokes: thin, typed, and never carrying a secret.

use taskdeck_ipc::{ActiveTasksSnapshot, ConnectionStatus};
use tauri::State;

use crate::error::Error;
use crate::live::failures::NotifySettings;
use crate::state::DesktopState;

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
