//! Keeping the Active tasks list live: reads the Site's list and sends it to
//! the UI whenever its revision moves.

use std::time::Duration;

use taskdeck_ipc::ActiveTasksSnapshot;
use tauri::AppHandle;

use crate::error::Error;
use crate::site_client::SiteClient;
use crate::state::{publish_snapshot, update_status};

/// How often the list is read while the link is healthy.
const REFRESH: Duration = Duration::from_secs(1);
/// The longest pause between tries after errors.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Rows read per refresh.
const PAGE_LIMIT: u32 = 1000;

/// Watches `site_id` until the app exits.
pub async fn watch(app: AppHandle, client: SiteClient, site_id: String) {
    let mut last_revision = None;
    let mut backoff = REFRESH;
    loop {
        match client.active_tasks(&site_id, PAGE_LIMIT).await {
            Ok(page) => {
                backoff = REFRESH;
                update_status(&app, |status| status.error = None);
                if last_revision != Some(page.revision) {
                    last_revision = Some(page.revision);
                    publish_snapshot(
                        &app,
                        ActiveTasksSnapshot {
                            site_id: site_id.clone(),
                            page,
                            fetched_at: chrono::Utc::now(),
                        },
                    );
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot read the Active tasks list");
                backoff = match &error {
                    Error::RateLimited { retry_after_secs } => {
                        Duration::from_secs(*retry_after_secs)
                    }
                    _ => (backoff * 2).min(MAX_BACKOFF),
                };
                update_status(&app, |status| status.error = Some(error.to_ui()));
            }
        }
        tokio::time::sleep(backoff).await;
    }
}
