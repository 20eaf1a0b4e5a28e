//! What the commands that take arguments take and answer: one struct per
//! command, sent as its one argument `request`, naming the command and the
//! type of its answer, so the window and the backend cannot disagree on
//! either. (Commands without arguments are called by name alone.)

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use site_api::{
    ActiveTasksPage, CancelResponse, CreateTaskRequest, FacetField, FacetsResponse, LogPage,
    LogQuery, Schedule, ScheduleCreate, Task, TaskId, TaskKind,
};

use crate::{
    commands, ConnectionCheck, ConnectionView, ListQuery, NotifySettings, RunSummary, SavedView,
    SiteViews, Theme,
};

/// The arguments of one command, and what it answers.
pub trait Request: Serialize + DeserializeOwned {
    /// The command's name (one of [`commands`]).
    const COMMAND: &'static str;
    /// What the command answers.
    type Answer: Serialize + DeserializeOwned;
}

/// A connection as the user typed it, secret included: only ever in
/// memory, never logged (its `Debug` hides the secret).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionDraft {
    /// What the user calls it; blank: named after its Site.
    #[serde(default)]
    pub name: String,
    /// The Site server's URL, `https://…` (or `http://` on a trusted network).
    pub server_url: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The app registration's client secret.
    pub client_secret: String,
    /// An extra CA certificate (PEM) for an internal PKI.
    #[serde(default)]
    pub extra_ca_pem: Option<String>,
}

impl std::fmt::Debug for ConnectionDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionDraft")
            .field("name", &self.name)
            .field("server_url", &self.server_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .finish()
    }
}

macro_rules! requests {
    ($(
        $(#[$doc:meta])*
        $name:ident => $command:ident -> $answer:ty { $($(#[$field_doc:meta])* $field:ident: $ty:ty),* $(,)? }
    )*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $($(#[$field_doc])* pub $field: $ty,)*
        }

        impl Request for $name {
            const COMMAND: &'static str = commands::$command;
            type Answer = $answer;
        }
    )*};
}

requests! {
    /// Tests a connection (a token and `/me`); saves nothing.
    TestConnection => TEST_CONNECTION -> ConnectionCheck {
        /// The connection to test.
        draft: ConnectionDraft,
    }
    /// Tests, then saves a connection and shows its first Site.
    AddConnection => ADD_CONNECTION -> ConnectionView {
        /// The connection to save.
        draft: ConnectionDraft,
    }
    /// Tests, then saves the changes to a connection (a blank secret keeps
    /// the saved one).
    UpdateConnection => UPDATE_CONNECTION -> ConnectionView {
        /// The connection's id.
        id: String,
        /// Its new state.
        draft: ConnectionDraft,
    }
    /// Forgets a connection and its secret.
    RemoveConnection => REMOVE_CONNECTION -> () {
        /// The connection's id.
        id: String,
    }
    /// Shows one Site of a connection in the window.
    ShowSite => SHOW_SITE -> () {
        /// The connection's id.
        connection: String,
        /// The Site's id.
        site: String,
    }
    /// Cancels tasks of the shown Site.
    CancelTasks => CANCEL_TASKS -> CancelResponse {
        /// The tasks, in the order their outcomes come back.
        tasks: Vec<TaskId>,
    }
    /// Cancels every active task of the shown Site matching a query.
    CancelMatching => CANCEL_MATCHING -> CancelResponse {
        /// The tasks to cancel.
        query: ListQuery,
    }
    /// The shown Site's Active tasks matching a query.
    ListTasks => LIST_TASKS -> ActiveTasksPage {
        /// What to read.
        query: ListQuery,
    }
    /// (1.1) The filter menus' counts, one answer per field.
    TaskFacets => TASK_FACETS -> Vec<FacetsResponse> {
        /// The list the counts are of.
        query: ListQuery,
        /// The fields to count.
        fields: Vec<FacetField>,
    }
    /// One task of the shown Site, active or ended.
    TaskDetail => TASK_DETAIL -> Task {
        /// The task.
        task: TaskId,
    }
    /// The tasks one Audit Service of the shown Site runs now.
    AuditServiceTasks => AUDIT_SERVICE_TASKS -> ActiveTasksPage {
        /// The service's id.
        audit_service: String,
    }
    /// A page of the shown Site's Scan log or Audit log.
    LogEntries => LOG_ENTRIES -> LogPage {
        /// Which log.
        kind: TaskKind,
        /// Its filters and page.
        query: LogQuery,
    }
    /// Every row of a log matching its filters, as a CSV file in Downloads.
    ExportLog => EXPORT_LOG -> String {
        /// Which log.
        kind: TaskKind,
        /// Its filters.
        query: LogQuery,
    }
    /// Creates a schedule on the shown Site.
    CreateSchedule => CREATE_SCHEDULE -> Schedule {
        /// The schedule.
        draft: ScheduleCreate,
    }
    /// Turns a schedule of the shown Site on or off.
    SetScheduleEnabled => SET_SCHEDULE_ENABLED -> Schedule {
        /// The schedule's id.
        id: String,
        /// On or off.
        enabled: bool,
    }
    /// Deletes a schedule of the shown Site.
    DeleteSchedule => DELETE_SCHEDULE -> () {
        /// The schedule's id.
        id: String,
    }
    /// Which failures raise a notification, saved.
    SetNotificationSettings => SET_NOTIFICATION_SETTINGS -> () {
        /// The choices.
        settings: NotifySettings,
    }
    /// A connection's personal views.
    Views => VIEWS -> SiteViews {
        /// The connection's id.
        connection: String,
    }
    /// Replaces a connection's personal views, saved durably.
    SetViews => SET_VIEWS -> () {
        /// The connection's id.
        connection: String,
        /// Its views.
        views: SiteViews,
    }
    /// Saves a view as a JSON file in Downloads; answers its path.
    SaveViewFile => SAVE_VIEW_FILE -> String {
        /// The view.
        view: SavedView,
    }
    /// The window's theme, saved.
    SetTheme => SET_THEME -> () {
        /// The theme.
        theme: Theme,
    }
    /// Opens a web link in the desktop's browser.
    OpenLink => OPEN_LINK -> () {
        /// An http or https link.
        url: String,
    }
    /// Creates tasks on the shown Site, in order, and says what was created.
    RunTasks => RUN_TASKS -> RunSummary {
        /// The tasks (a new one, or ended ones run again).
        tasks: Vec<CreateTaskRequest>,
    }
    /// Every failed row of a log that its filters match (failed, or ended
    /// with errors), as the tasks that run them again.
    FailedInLog => FAILED_IN_LOG -> Vec<CreateTaskRequest> {
        /// Which log.
        kind: TaskKind,
        /// Its filters (the page and cursor are the backend's).
        query: LogQuery,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_command_and_a_draft_hides_its_secret() {
        assert_eq!(ListTasks::COMMAND, "list_tasks");
        assert_eq!(TaskFacets::COMMAND, "task_facets");
        let draft = ConnectionDraft {
            client_secret: "s3cret".to_owned(),
            ..ConnectionDraft::default()
        };
        assert!(!format!("{draft:?}").contains("s3cret"));
        let request = TaskDetail {
            task: "scan-12".parse().unwrap(),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(text, r#"{"task":"scan-12"}"#);
    }
}
