//! What the desktop backend (`src-tauri`) and the UI (`src-ui`) say to each
//! other: command results and event payloads.
//!
//! **Architecture invariant:** nothing secret is ever a field here. Client
//! secrets and access tokens stay in the backend; the WebView sees Sites,
//! tasks and sentences about errors.
//!
//! The Site's own objects (Task and the rest) come from `site-api` unchanged.

#![deny(missing_docs)]

use serde::{Deserialize, Serialize};
use site_api::{ActiveTasksPage, SiteRole};

mod list;
pub mod request;
mod run;
mod views;

pub use list::ListQuery;
pub use run::{grouped, RunProgress, RunSummary};

pub use views::{
    ColumnKey, Density, InitiatorFilter, SavedView, SiteViews, StartedFilter, ViewColumn,
    ViewFilters, ViewSort, DEFAULT_VIEW_ID, MAX_VIEWS, MAX_VIEW_NAME, VIEW_SCHEMA,
};

/// Names of the events the backend emits.
pub mod events {
    /// Carries an [`ActiveTasksSnapshot`](super::ActiveTasksSnapshot) whenever the list changed.
    pub const ACTIVE_TASKS: &str = "active-tasks";
    /// Carries a [`ConnectionStatus`](super::ConnectionStatus) whenever it changed.
    pub const CONNECTION: &str = "connection";
    /// Carries a [`TasksChanged`](super::TasksChanged): the contract's Task
    /// objects as the Site's events changed them, in order.
    pub const TASKS_CHANGED: &str = "tasks-changed";
    /// Carries a [`SiteObject`](super::SiteObject) for an Audit Service change
    /// or a new signal.
    pub const SITE_OBJECT: &str = "site-object";
    /// Carries a [`LinkStatus`](super::LinkStatus) whenever the live link's state changed.
    pub const LINK: &str = "link";
    /// Carries a [`SignalsNow`](super::SignalsNow): the signals in force on
    /// the shown Site, whenever they changed.
    pub const SIGNALS: &str = "signals";
    /// The Sites the window can show changed (a connection came up, was
    /// added or removed): read `sites` again. No payload.
    pub const SITES: &str = "sites";
    /// Carries an [`OpenTask`](super::OpenTask): show this task (a click on
    /// its notification); its Site is already the one shown.
    pub const OPEN_TASK: &str = "open-task";
    /// Carries a [`RunProgress`](super::RunProgress) while `run_tasks`
    /// creates tasks: after each batch, and before each wait for a 429.
    pub const RUN_PROGRESS: &str = "run-progress";
}

/// Names of the backend's commands. A command written `(a, b) -> T` takes
/// one argument, `request`: the struct of [`request`](crate::request)
/// named after it, with fields `a` and `b`, answering `T`.
pub mod commands {
    /// `() -> ConnectionStatus`.
    pub const CONNECTION_STATUS: &str = "connection_status";
    /// `() -> Option<ActiveTasksSnapshot>`: the latest list, if one was read.
    pub const ACTIVE_TASKS: &str = "active_tasks";
    /// `() -> NotificationSettings`.
    pub const NOTIFICATION_SETTINGS: &str = "notification_settings";
    /// `(settings: NotificationSettings) -> ()`, saved durably.
    pub const SET_NOTIFICATION_SETTINGS: &str = "set_notification_settings";
    /// `() -> Vec<ConnectionView>`.
    pub const CONNECTIONS: &str = "connections";
    /// `(draft) -> ConnectionCheck`: a token and `/me`, nothing saved.
    pub const TEST_CONNECTION: &str = "test_connection";
    /// `(draft) -> ConnectionView`: tested, then saved (secret to the keyring).
    pub const ADD_CONNECTION: &str = "add_connection";
    /// `(id) -> ()`: stops watching it and removes it and its secret.
    pub const REMOVE_CONNECTION: &str = "remove_connection";
    /// `(tasks: Vec<TaskId>) -> CancelResponse`: cancels on the shown Site.
    pub const CANCEL_TASKS: &str = "cancel_tasks";
    /// `() -> Option<SignalsNow>`: the signals of the shown Site, as last read.
    pub const SIGNALS: &str = "signals";
    /// `() -> Option<LinkStatus>`: the shown Site's live link.
    pub const LINK_STATUS: &str = "link_status";
    /// `(query: ListQuery) -> ActiveTasksPage`: a filtered page of the shown Site.
    pub const LIST_TASKS: &str = "list_tasks";
    /// `(kind, query) -> LogPage`: the shown Site's Scan or Audit log.
    pub const LOG_ENTRIES: &str = "log_entries";
    /// `() -> Vec<SiteChoice>`: every Site the window can show.
    pub const SITES: &str = "sites";
    /// `(connection, site)`: show that Site in the window.
    pub const SHOW_SITE: &str = "show_site";
    /// `(id, draft) -> ConnectionView`: tests and saves a changed
    /// connection (a blank secret keeps the saved one).
    pub const UPDATE_CONNECTION: &str = "update_connection";
    /// `(task: TaskId) -> Task`: one task of the shown Site (the detail drawer).
    pub const TASK_DETAIL: &str = "task_detail";
    /// `(query: ListQuery) -> CancelResponse`: cancels every active task
    /// matching the query ("select all N matching").
    pub const CANCEL_MATCHING: &str = "cancel_matching";
    /// `(query: ListQuery, fields: Vec<FacetField>) -> Vec<FacetsResponse>`:
    /// (1.1) for each field, how many active tasks matching the query
    /// without its own filter have each value (the filter menus' counts).
    pub const TASK_FACETS: &str = "task_facets";
    /// `() -> AuditServicesResponse`: the shown Site's Audit Services.
    pub const AUDIT_SERVICES: &str = "audit_services";
    /// `(auditService: String) -> ActiveTasksPage`: the tasks one Audit
    /// Service of the shown Site runs now, oldest first.
    pub const AUDIT_SERVICE_TASKS: &str = "audit_service_tasks";
    /// `() -> Stats`: the shown Site's queue now and by minute.
    pub const STATS: &str = "stats";
    /// `() -> SchedulesResponse`: the shown Site's schedules.
    pub const SCHEDULES: &str = "schedules";
    /// `(draft: ScheduleCreate) -> Schedule` (Site Administrators).
    pub const CREATE_SCHEDULE: &str = "create_schedule";
    /// `(id, enabled) -> Schedule` (Site Administrators).
    pub const SET_SCHEDULE_ENABLED: &str = "set_schedule_enabled";
    /// `(id)` (Site Administrators).
    pub const DELETE_SCHEDULE: &str = "delete_schedule";
    /// `(kind, query) -> String`: every matching row of a log as CSV in
    /// the Downloads folder; the file's path.
    pub const EXPORT_LOG: &str = "export_log";
    /// `(view: SavedView) -> String`: the view as a JSON file in the
    /// Downloads folder; the file's path.
    pub const SAVE_VIEW_FILE: &str = "save_view_file";
    /// `() -> About`: versions, for the About dialog.
    pub const ABOUT: &str = "about";
    /// `open_link(url)`: opens an http(s) link in the user's browser.
    pub const OPEN_LINK: &str = "open_link";
    /// `() -> Theme`: the window's colours.
    pub const THEME: &str = "theme";
    /// `(theme: Theme)`: saved durably before the answer.
    pub const SET_THEME: &str = "set_theme";
    /// `(connection) -> SiteViews`: a connection's saved views.
    pub const VIEWS: &str = "views";
    /// `(connection, views: SiteViews)`: replaces a connection's saved
    /// views (checked, then saved durably before the answer).
    pub const SET_VIEWS: &str = "set_views";
    /// `(tasks: Vec<CreateTaskRequest>) -> RunSummary`: creates tasks on
    /// the shown Site, in order, in batches (both roles may).
    pub const RUN_TASKS: &str = "run_tasks";
    /// `(kind, query: LogQuery) -> Vec<CreateTaskRequest>`: every failed
    /// row of a log its filters match, as the tasks that run them again.
    pub const FAILED_IN_LOG: &str = "failed_in_log";
}

/// A saved Site connection as the window shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// Its id.
    pub id: String,
    /// What the user calls it.
    pub name: String,
    /// The Site server's URL.
    pub server_url: String,
    /// The app registration's client id.
    pub client_id: String,
    /// Whether it trusts an extra CA certificate.
    pub has_extra_ca: bool,
}

/// What testing a connection found: who it acts as, and on which Sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCheck {
    /// Who the registration acts as.
    pub identity: Identity,
    /// Its Sites and roles.
    pub sites: Vec<SiteSummary>,
}

/// Which failures raise a native notification (kept in the settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifySettings {
    /// Notifications at all.
    pub enabled: bool,
    /// Only tasks the user initiated (their email as Initiator).
    pub only_mine: bool,
    /// Also announce a task running longer than its Site's limit
    /// (the `task_running_long` signal).
    pub running_long: bool,
    /// Sites (by id) whose failures are not announced.
    pub muted_sites: Vec<String>,
}

impl Default for NotifySettings {
    fn default() -> NotifySettings {
        NotifySettings {
            enabled: true,
            only_mine: false,
            running_long: false,
            muted_sites: Vec::new(),
        }
    }
}

impl NotifySettings {
    /// Are failures of `site_id` announced at all?
    pub fn announces(&self, site_id: &str) -> bool {
        self.enabled && !self.muted_sites.iter().any(|muted| muted == site_id)
    }
}

/// What the About dialog shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct About {
    /// Taskdeck's version.
    pub version: String,
    /// The Tauri runtime's version.
    pub tauri: String,
    /// The embedded Demo Site's (taskdeck-site) version.
    pub site_server: String,
    /// The Site task API version spoken.
    pub api: String,
    /// The project's page.
    pub homepage: String,
    /// The licence (an SPDX expression).
    pub licence: String,
}

/// The window's colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// As the system is set.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    /// The `data-theme` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// A task the window should bring into view: its log row once it ended,
/// else its row in the Active tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTask {
    /// The Site (the one shown).
    pub site_id: String,
    /// The task.
    pub task: site_api::TaskId,
    /// It ended: its row is in the Scan or Audit log.
    pub ended: bool,
}

/// A Site the window can show, and the connection it is reached through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteChoice {
    /// The connection's id (`demo` for the Demo Site).
    pub connection_id: String,
    /// What the user calls the connection.
    pub connection_name: String,
    /// The Site and the user's role on it.
    pub site: SiteSummary,
}

/// Where the app stands with its Site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    /// The connection's id (`demo` for the embedded Demo Site): the key of
    /// its saved views.
    pub connection_id: String,
    /// The connection's display name, e.g. `Demo Site`.
    pub connection_name: String,
    /// The Site server's URL.
    pub server_url: Option<String>,
    /// Connecting, connected, or failed.
    pub phase: ConnectionPhase,
    /// Who the app acts as, once connected.
    pub identity: Option<Identity>,
    /// The Site shown.
    pub site: Option<SiteSummary>,
    /// Whether credentials can be kept in the OS keyring.
    pub keyring: KeyringState,
    /// The last error, as a sentence a person understands.
    pub error: Option<UiError>,
    /// Said once: the settings file was unreadable and was set aside.
    #[serde(default)]
    pub settings_notice: Option<String>,
}

/// The stages of connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionPhase {
    /// Starting the Demo Site, or fetching a token.
    Connecting,
    /// The list is live.
    Connected,
    /// Connecting failed; `error` says why.
    Failed,
}

/// The registration owner the app acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Their email (the Initiator of what they trigger).
    pub email: String,
    /// Their display name.
    pub display_name: String,
}

/// The Site on screen and the user's role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSummary {
    /// The Site id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The user's role: Site Administrators may cancel.
    pub role: SiteRole,
}

impl From<site_api::SiteMembership> for SiteSummary {
    fn from(site: site_api::SiteMembership) -> SiteSummary {
        SiteSummary {
            id: site.id,
            name: site.name,
            role: site.role,
        }
    }
}

/// Whether the OS keyring can hold credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyringState {
    /// Not tried yet.
    Unknown,
    /// Credentials are stored there.
    Available,
    /// No usable keyring: the Demo Site still runs, real Sites cannot be added.
    Unavailable {
        /// What the keyring said.
        reason: String,
    },
}

/// An error as the UI shows it: a kind to act on and a sentence to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One sentence a person understands.
    pub message: String,
}

/// Kinds of failure the UI distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The Site server did not answer.
    Unreachable,
    /// TLS failed (certificate or handshake).
    Tls,
    /// The client id or secret was refused.
    CredentialsRejected,
    /// The app registration has expired.
    RegistrationExpired,
    /// The role does not allow it.
    Forbidden,
    /// No such Site, task or schedule (for this user).
    NotFound,
    /// Too many requests; the app retries.
    RateLimited,
    /// The server failed.
    Server,
    /// The Site speaks revision 1.0 of the API: no scope, start-date or
    /// Audit Service filter, no facets.
    OlderSite,
    /// The server answered something the contract does not allow.
    UnexpectedResponse,
    /// The OS keyring failed.
    Keyring,
    /// The embedded Demo Site could not start.
    Demo,
    /// The settings could not be saved.
    Settings,
    /// What the user typed cannot be used.
    InvalidInput,
    /// The desktop could not open a link.
    Desktop,
    /// A file could not be read or written.
    Io,
    /// Background work of the app stopped before it answered.
    Interrupted,
}

/// Task changes of one Site, as its event stream delivered them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TasksChanged {
    /// The Site.
    pub site_id: String,
    /// The changed tasks, oldest change first.
    pub tasks: Vec<site_api::Task>,
}

/// An Audit Service that changed, or a signal that came into force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SiteObject {
    /// An Audit Service's slots or state changed.
    AuditService {
        /// The Site.
        site_id: String,
        /// The service now.
        audit_service: site_api::AuditService,
    },
    /// A signal came into force.
    Signal {
        /// The Site.
        site_id: String,
        /// The signal.
        signal: site_api::Signal,
    },
}

/// How the backend follows a Site's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkState {
    /// Connecting for the first time.
    Connecting,
    /// The event stream is open: changes arrive as they happen.
    Live,
    /// The stream is unavailable; the list is read every few seconds.
    Polling,
    /// The link broke; the backend is reconnecting.
    Reconnecting {
        /// When the link broke.
        since: site_api::Timestamp,
    },
}

/// The signals in force on one Site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalsNow {
    /// The Site.
    pub site_id: String,
    /// Its signals.
    pub signals: Vec<site_api::Signal>,
}

/// The live link of one Site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatus {
    /// The Site.
    pub site_id: String,
    /// Its state.
    pub state: LinkState,
}

/// The Active tasks list of one Site, as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTasksSnapshot {
    /// The Site it belongs to.
    pub site_id: String,
    /// The list page, newest first.
    pub page: ActiveTasksPage,
    /// When the backend read it (RFC 3339).
    pub fetched_at: site_api::Timestamp,
}
