//! Keeping Sites live: one [`follow::Follower`] per connected Site reads the
//! first page, then applies the Site's event stream to a [`list::LiveList`]
//! and announces failures through a [`failures::FailureWatch`].
//!
//! [`TauriSink`] is where a follower's reports go in the app: Tauri events
//! to the window (the UI never polls), native notifications, the status.

pub mod failures;
pub mod follow;
pub mod list;

use site_api::{AuditService, Signal, Task};
use taskdeck_ipc::{events, ActiveTasksSnapshot, LinkState, LinkStatus, SiteObject, TasksChanged};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::error::Error;
use crate::state::{publish_snapshot, update_status};
use failures::FailureNotice;
use follow::LiveSink;
use list::LiveList;

/// Reports of a follower, forwarded to the window and the OS.
pub struct TauriSink {
    /// The app.
    pub app: AppHandle,
    /// True for the Site the window shows; the others are watched for
    /// failures only (their lists and errors do not reach the window).
    pub shown: bool,
}

impl TauriSink {
    fn emit<T: serde::Serialize + Clone>(&self, event: &str, payload: T) {
        if let Err(error) = self.app.emit(event, payload) {
            tracing::warn!(%error, event, "cannot send an event to the window");
        }
    }
}

impl LiveSink for TauriSink {
    fn list_changed(&self, site_id: &str, list: &LiveList) {
        if !self.shown {
            return;
        }
        publish_snapshot(
            &self.app,
            ActiveTasksSnapshot {
                site_id: site_id.to_owned(),
                page: list.page().clone(),
                fetched_at: chrono::Utc::now(),
            },
        );
    }

    fn tasks_changed(&self, site_id: &str, tasks: Vec<Task>) {
        if !self.shown {
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
        if self.shown {
            self.app
                .state::<crate::state::DesktopState>()
                .signals_changed
                .notify_one();
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
            .app
            .state::<crate::state::DesktopState>()
            .notifications_paused
            .load(std::sync::atomic::Ordering::SeqCst);
        if paused {
            tracing::info!(task = %notice.task, "notifications paused: not shown");
            return;
        }
        tracing::info!(task = %notice.task, site = %notice.site_id, "notifying a failure");
        let shown = self
            .app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show();
        if let Err(error) = shown {
            tracing::warn!(%error, "cannot show a notification");
        }
    }

    fn link(&self, site_id: &str, state: LinkState) {
        if !self.shown {
            return;
        }
        let link = LinkStatus {
            site_id: site_id.to_owned(),
            state,
        };
        *self
            .app
            .state::<crate::state::DesktopState>()
            .link
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(link.clone());
        self.emit(events::LINK, link);
    }

    fn error(&self, site_id: &str, error: Option<&Error>) {
        if !self.shown {
            if let Some(error) = error {
                tracing::warn!(%error, site = site_id, "a watched Site has a problem");
            }
            return;
        }
        let error = error.map(Error::to_ui);
        update_status(&self.app, |status| status.error = error);
    }
}
