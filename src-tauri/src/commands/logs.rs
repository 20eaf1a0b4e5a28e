//! Commands on the Scan log and the Audit log: a page, an export to a
//! file, and the failed rows its filters match (to run them again).

use taskdeck_ipc::request::{self, Request};
use tauri::{AppHandle, Manager};

use crate::error::Error;
use crate::state::DesktopState;

/// A page of the shown Site's Scan log or Audit log, newest end first.
#[tauri::command]
pub(crate) async fn log_entries(
    app: AppHandle,
    request: request::LogEntries,
) -> Result<<request::LogEntries as Request>::Answer, Error> {
    let request::LogEntries { kind, query } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.log(&site_id, kind, &query).await
}

/// Exports every row of the shown Site's Scan or Audit log matching
/// `query` as CSV into the Downloads folder; returns the file's path.
#[tauri::command]
pub(crate) async fn export_log(
    app: AppHandle,
    request: request::ExportLog,
) -> Result<<request::ExportLog as Request>::Answer, Error> {
    let request::ExportLog { kind, query } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let entries = crate::export::read_all(&client, &site_id, kind, query).await?;
    let csv = crate::export::to_csv(&entries)?;
    crate::export::save_to_downloads(&app, csv, |folder| {
        crate::export::file_for(folder, kind, &site_id)
    })
    .await
}

/// Every failed row (failed, or ended with errors) of the shown Site's Scan
/// or Audit log that `query` matches, as the tasks that run them again.
#[tauri::command]
pub(crate) async fn failed_in_log(
    app: AppHandle,
    request: request::FailedInLog,
) -> Result<<request::FailedInLog as Request>::Answer, Error> {
    let request::FailedInLog { kind, query } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    crate::run_tasks::failed_in_log(&client, &site_id, kind, &query).await
}
