//! Commands on the shown Site's schedules.

use taskdeck_ipc::request::{self, Request};
use tauri::{AppHandle, Manager};

use crate::error::Error;
use crate::state::DesktopState;

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
    request: request::CreateSchedule,
) -> Result<<request::CreateSchedule as Request>::Answer, Error> {
    let request::CreateSchedule { draft } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.create_schedule(&site_id, &draft).await
}

/// Enables or disables a schedule of the shown Site (Site Administrators).
#[tauri::command]
pub(crate) async fn set_schedule_enabled(
    app: AppHandle,
    request: request::SetScheduleEnabled,
) -> Result<<request::SetScheduleEnabled as Request>::Answer, Error> {
    let request::SetScheduleEnabled { id, enabled } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    let change = site_api::ScheduleUpdate {
        enabled: Some(enabled),
        ..site_api::ScheduleUpdate::default()
    };
    client.update_schedule(&site_id, &id, &change).await
}

/// Deletes a schedule of the shown Site (Site Administrators).
#[tauri::command]
pub(crate) async fn delete_schedule(
    app: AppHandle,
    request: request::DeleteSchedule,
) -> Result<<request::DeleteSchedule as Request>::Answer, Error> {
    let request::DeleteSchedule { id } = request;
    let (client, site_id) = app.state::<DesktopState>().shown_site()?;
    client.delete_schedule(&site_id, &id).await
}
