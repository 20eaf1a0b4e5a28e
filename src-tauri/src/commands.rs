//! The commands the UI invokes: thin, typed, and never carrying a secret.

use taskdeck_ipc::{ActiveTasksSnapshot, ConnectionStatus};
use tauri::State;

use crate::state::DesktopState;

/// Where the app stands with its Site.
#[tauri::command]
pub(crate) fn connection_status(state: State<'_, DesktopState>) -> ConnectionStatus {
    state.status()
}

/// The latest Active tasks list, if one was read yet.
#[tauri::command]
pub(crate) fn active_tasks(state: State<'_, DesktopState>) -> Option<ActiveTasksSnapshot> {
    state.snapshot()
}
