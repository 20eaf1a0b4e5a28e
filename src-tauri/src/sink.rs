//! Where a follower's reports go in the app: kept per Site in
//! [`Sites`](crate::sites::Sites) (so the window can switch to one at
//! once), sent to the window as Tauri events while its Site is the one
//! shown (the UI never polls), and turned into native notifications for
//! every Site.

use site_api::{AuditService, Signal, Task};
use taskdeck_ipc::{events, ActiveTasksSnapshot, LinkState, LinkStatus, SiteObject, TasksChanged};
use tauri::{AppHandle, Emitter, Manager};

use crate::error::Error;
use crate::live::failures::FailureNotice;
use crate::live::follow::LiveSink;
use crate::live::list::LiveList;
use crate::state::{publish_snapshot, update_status};

/// Reports of a follower, kept per Site (so the window can switch to it at
/// once), forwarded to the window while its Site is the one shown, and
/// turned into native notifications for every Site.
pub struct TauriSink {
    /// The app.
    pub app: AppHandle,
    /// The connection followed.
    pub connection_id: String,
}

impl TauriSink {
    fn state(&self) -> tauri::State<'_, crate::state::DesktopState> {
        self.app.state::<crate::state::DesktopState>()
    }

    fn shown(&self, site_id: &str) -> bool {
        self.state().sites.is_shown(&self.connection_id, site_id)
    }

    fn emit<T: serde::Serialize + Clone>(&self, event: &str, payload: T) {
        if let Err(error) = self.app.emit(event, payload) {
            tracing::warn!(%error, event, "cannot send an event to the window");
        }
    }
}

impl LiveSink for TauriSink {
    fn list_changed(&self, site_id: &str, list: &LiveList) {
        let snapshot = ActiveTasksSnapshot {
            site_id: site_id.to_owned(),
            page: list.page().clone(),
            fetched_at: chrono::Utc::now(),
        };
        self.state()
            .sites
            .record(&self.connection_id, site_id, |live| {
                live.snapshot = Some(snapshot.clone())
            });
        if self.shown(site_id) {
            publish_snapshot(&self.app, snapshot);
        }
    }

    fn tasks_changed(&self, site_id: &str, tasks: Vec<Task>) {
        if !self.shown(site_id) {
            return;
        }
        self.emit(
            events::TASKS_CHANGED,
            TasksChanged {
                site_id: site_id.to_owned(),
                tasks,
            },
        );
    }

    fn audit_service(&self, site_id: &str, audit_service: AuditService) {
        self.emit(
            events::SITE_OBJECT,
            SiteObject::AuditService {
                site_id: site_id.to_owned(),
                audit_service,
            },
        );
    }

    fn signal(&self, site_id: &str, signal: Signal) {
        if self.shown(site_id) {
            self.state().signals_changed.notify_one();
        }
        self.emit(
            events::SITE_OBJECT,
            SiteObject::Signal {
                site_id: site_id.to_owned(),
                signal,
            },
        );
    }

    fn failure(&self, notice: FailureNotice) {
        let paused = self
            .state()
            .notifications_paused
            .load(std::sync::atomic::Ordering::SeqCst);
        if paused {
            tracing::info!(task = %notice.task, "notifications paused: not shown");
            return;
        }
        let first =
            self.state()
                .sites
                .first_notice(&self.connection_id, &notice.site_id, notice.task);
        if !first {
            // Another connection to the same Site announced it already.
            return;
        }
        tracing::info!(task = %notice.task, site = %notice.site_id, "notifying a failure");
        if let Err(error) = crate::notify::show_failure(&self.app, &self.connection_id, &notice) {
            tracing::warn!(%error, "cannot show a notification");
        }
    }

    fn link(&self, site_id: &str, state: LinkState) {
        let link = LinkStatus {
            site_id: site_id.to_owned(),
            state,
        };
        self.state()
            .sites
            .record(&self.connection_id, site_id, |live| {
                live.link = Some(link.clone())
            });
        if self.shown(site_id) {
            self.emit(events::LINK, link);
        }
    }

    fn error(&self, site_id: &str, error: Option<&Error>) {
        let ui = error.map(Error::to_ui);
        self.state()
            .sites
            .record(&self.connection_id, site_id, |live| live.error = ui.clone());
        if !self.shown(site_id) {
            if let Some(error) = error {
                tracing::warn!(%error, site = site_id, "a watched Site has a problem");
            }
            return;
        }
        update_status(&self.app, |status| status.error = ui);
    }
}
