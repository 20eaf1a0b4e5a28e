//! Saved views of the Active tasks list, as the backend keeps them per
//! connection and the UI applies them.
//!
//! A view is data only; the rules (applying, merging a view with the columns
//! this build knows, dirty detection) are the UI's pure functions.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use site_api::{TargetType, TaskKind, TaskStatus, Timestamp};

/// The schema version of views this build writes. Views of a newer schema
/// are refused on import with a sentence, never half-applied.
///
/// Schema 2 added the scope and start-date filters; a schema 1 view reads
/// as one without them.
pub const VIEW_SCHEMA: u32 = 2;

/// A column of the Active tasks list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColumnKey {
    /// Device / Resource.
    Target,
    /// `Scan #NNN` / `Audit #NNN`.
    Task,
    /// When the task entered the queue.
    StartDate,
    /// The Site scope.
    Scope,
    /// A user's email or `Schedule`.
    Initiator,
    /// The status chip.
    Status,
    /// The Audit Service running the task (optional column).
    AuditService,
    /// How long the task has been running (optional column).
    RunningFor,
    /// A progress bar for running tasks (optional column).
    Progress,
    /// A column this build does not know (a view written by another
    /// version): dropped when the view is applied.
    #[serde(other)]
    Unknown,
}

impl ColumnKey {
    /// Every column this build shows, in the seed's order: the six of the
    /// seed first, then the optional ones.
    pub const ALL: [ColumnKey; 9] = [
        ColumnKey::Target,
        ColumnKey::Task,
        ColumnKey::StartDate,
        ColumnKey::Scope,
        ColumnKey::Initiator,
        ColumnKey::Status,
        ColumnKey::AuditService,
        ColumnKey::RunningFor,
        ColumnKey::Progress,
    ];

    /// The sort this column's header asks for, if it sorts.
    pub fn sort_key(self) -> Option<site_api::SortKey> {
        use site_api::SortKey;
        match self {
            ColumnKey::Target => Some(SortKey::Target),
            ColumnKey::Task => Some(SortKey::Task),
            ColumnKey::StartDate => Some(SortKey::StartDate),
            ColumnKey::Scope => Some(SortKey::Scope),
            ColumnKey::Initiator => Some(SortKey::Initiator),
            ColumnKey::Status => Some(SortKey::Status),
            ColumnKey::AuditService
            | ColumnKey::RunningFor
            | ColumnKey::Progress
            | ColumnKey::Unknown => None,
        }
    }

    /// The column whose header sorts by `key`.
    pub fn of_sort(key: site_api::SortKey) -> ColumnKey {
        use site_api::SortKey;
        match key {
            SortKey::Target => ColumnKey::Target,
            SortKey::Task => ColumnKey::Task,
            SortKey::StartDate => ColumnKey::StartDate,
            SortKey::Scope => ColumnKey::Scope,
            SortKey::Initiator => ColumnKey::Initiator,
            SortKey::Status => ColumnKey::Status,
        }
    }

    /// The key used in test hooks and files (`start-date`).
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKey::Target => "target",
            ColumnKey::Task => "task",
            ColumnKey::StartDate => "start-date",
            ColumnKey::Scope => "scope",
            ColumnKey::Initiator => "initiator",
            ColumnKey::Status => "status",
            ColumnKey::AuditService => "audit-service",
            ColumnKey::RunningFor => "running-for",
            ColumnKey::Progress => "progress",
            ColumnKey::Unknown => "unknown",
        }
    }

    /// The header a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ColumnKey::Target => "Device / Resource",
            ColumnKey::Task => "Task",
            ColumnKey::StartDate => "Start date",
            ColumnKey::Scope => "Scope",
            ColumnKey::Initiator => "Initiator",
            ColumnKey::Status => "Status",
            ColumnKey::AuditService => "Audit Service",
            ColumnKey::RunningFor => "Running for",
            ColumnKey::Progress => "Progress",
            ColumnKey::Unknown => "Unknown column",
        }
    }

    /// Shown in the seed's Default View.
    pub fn in_seed(self) -> bool {
        matches!(
            self,
            ColumnKey::Target
                | ColumnKey::Task
                | ColumnKey::StartDate
                | ColumnKey::Scope
                | ColumnKey::Initiator
                | ColumnKey::Status
        )
    }
}

/// One column of a view: where it is (its place in the list), whether it
/// shows, and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    /// Which column.
    pub key: ColumnKey,
    /// Shown.
    pub visible: bool,
    /// Width in CSS pixels, when the user dragged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u16>,
}

/// The order of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewSort {
    /// The column sorted by.
    pub column: ColumnKey,
    /// Largest first.
    pub descending: bool,
}

/// How tightly rows are packed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Density {
    /// Room to read.
    #[default]
    Comfortable,
    /// More rows on screen.
    Compact,
}

/// Whose tasks a view shows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitiatorFilter {
    /// Those the connection's user started (whoever that is on this
    /// connection: a view works on every connection).
    Me,
    /// Those started by a schedule.
    Schedule,
    /// Those one user started.
    Email(String),
}

/// The filters of a view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewFilters {
    /// Only these statuses (none: all).
    pub statuses: BTreeSet<TaskStatus>,
    /// Only these kinds (none: both).
    pub kinds: BTreeSet<TaskKind>,
    /// Only these target types (none: all).
    pub target_types: BTreeSet<TargetType>,
    /// Only tasks of this initiator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiator: Option<InitiatorFilter>,
    /// Only tasks of this scope, the whole of it (case-insensitively).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Only tasks that entered the queue in this range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<StartedFilter>,
    /// Only the tasks this Audit Service (its id) is running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_service: Option<String>,
}

/// When the tasks a view shows entered the queue. The relative ranges
/// move with the clock: a view saved as "the last 24 hours" shows the last
/// 24 hours whenever it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "range", rename_all = "snake_case")]
pub enum StartedFilter {
    /// Started in the last `hours` hours.
    Within {
        /// How far back.
        hours: u32,
    },
    /// Started more than `hours` hours ago (waiting or running long).
    OlderThan {
        /// How long ago, at least.
        hours: u32,
    },
    /// Started between two times; an end left out is open.
    Between {
        /// From (included).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Timestamp>,
        /// To (excluded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Timestamp>,
    },
}

impl StartedFilter {
    /// The range as times at `now`: (started at or after, started before).
    pub fn range(self, now: Timestamp) -> (Option<Timestamp>, Option<Timestamp>) {
        let ago = |hours: u32| now - chrono::Duration::hours(i64::from(hours));
        match self {
            StartedFilter::Within { hours } => (Some(ago(hours)), None),
            StartedFilter::OlderThan { hours } => (None, Some(ago(hours))),
            StartedFilter::Between { from, to } => (from, to),
        }
    }
}

/// A personal view: columns, sort, filters, search and density.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    /// The schema version it was written with.
    pub schema: u32,
    /// A stable id within the connection.
    pub id: String,
    /// What the user called it.
    pub name: String,
    /// The columns in order; each known column at most once.
    pub columns: Vec<ViewColumn>,
    /// The order.
    pub sort: ViewSort,
    /// The filters.
    #[serde(default)]
    pub filters: ViewFilters,
    /// The search text.
    #[serde(default)]
    pub search: String,
    /// Row density.
    #[serde(default)]
    pub density: Density,
}

/// A connection's personal views and which one opens at start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteViews {
    /// The personal views, in the order the menu lists them.
    pub views: Vec<SavedView>,
    /// The id of the view that opens at start; `None`: the built-in
    /// Default View.
    pub default_view: Option<String>,
}

/// The built-in Default View's id (it is never stored).
pub const DEFAULT_VIEW_ID: &str = "default";

/// The most personal views one connection keeps.
pub const MAX_VIEWS: usize = 100;

/// The longest view name, in characters.
pub const MAX_VIEW_NAME: usize = 80;

impl SiteViews {
    /// Why these views cannot be kept, if they cannot: a blank, overlong or
    /// repeated name, a repeated id, the built-in id, a newer schema, too
    /// many views, or a default that names no view.
    pub fn problem(&self) -> Option<String> {
        if self.views.len() > MAX_VIEWS {
            return Some(format!("at most {MAX_VIEWS} views can be kept"));
        }
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for view in &self.views {
            let name = view.name.trim();
            if name.is_empty() {
                return Some("a view needs a name".to_owned());
            }
            if name.chars().count() > MAX_VIEW_NAME {
                return Some(format!("a view name is at most {MAX_VIEW_NAME} characters"));
            }
            if view.id.is_empty() || view.id == DEFAULT_VIEW_ID || !ids.insert(view.id.as_str()) {
                return Some(format!("the view “{name}” has no id of its own"));
            }
            if name.eq_ignore_ascii_case("Default View") || !names.insert(name.to_lowercase()) {
                return Some(format!("there is already a view named “{name}”"));
            }
            if view.schema > VIEW_SCHEMA {
                return Some(format!(
                    "the view “{name}” was made by a newer Taskdeck (view schema {})",
                    view.schema
                ));
            }
        }
        match &self.default_view {
            Some(id) if !ids.contains(id.as_str()) => {
                Some("the default view is not one of the saved views".to_owned())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: &str, name: &str) -> SavedView {
        SavedView {
            schema: VIEW_SCHEMA,
            id: id.to_owned(),
            name: name.to_owned(),
            columns: vec![ViewColumn {
                key: ColumnKey::Target,
                visible: true,
                width: None,
            }],
            sort: ViewSort {
                column: ColumnKey::StartDate,
                descending: true,
            },
            filters: ViewFilters::default(),
            search: String::new(),
            density: Density::Comfortable,
        }
    }

    #[test]
    fn started_ranges_move_with_the_clock_and_read_back_from_json() {
        let now: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        let hour_ago: Timestamp = "2026-11-29T11:00:00Z".parse().unwrap();
        assert_eq!(
            StartedFilter::Within { hours: 1 }.range(now),
            (Some(hour_ago), None)
        );
        assert_eq!(
            StartedFilter::OlderThan { hours: 1 }.range(now),
            (None, Some(hour_ago))
        );
        let between = StartedFilter::Between {
            from: Some(hour_ago),
            to: None,
        };
        assert_eq!(between.range(now), (Some(hour_ago), None));
        let text = serde_json::to_string(&between).unwrap();
        assert_eq!(text, r#"{"range":"between","from":"2026-11-29T11:00:00Z"}"#);
        assert_eq!(
            serde_json::from_str::<StartedFilter>(&text).unwrap(),
            between
        );
        let within: StartedFilter =
            serde_json::from_str(r#"{"range":"within","hours":24}"#).unwrap();
        assert_eq!(within, StartedFilter::Within { hours: 24 });
    }

    #[test]
    fn a_schema_1_view_reads_without_the_new_filters() {
        let old: ViewFilters =
            serde_json::from_str(r#"{"statuses":["queued"],"kinds":[],"target_types":[]}"#)
                .unwrap();
        assert_eq!(old.scope, None);
        assert_eq!(old.started, None);
        assert!(old.statuses.contains(&TaskStatus::Queued));
    }

    #[test]
    fn unknown_columns_read_as_unknown_and_keys_are_kebab_case() {
        let column: ViewColumn =
            serde_json::from_str(r#"{"key":"cost-centre","visible":true}"#).unwrap();
        assert_eq!(column.key, ColumnKey::Unknown);
        for key in ColumnKey::ALL {
            let text = serde_json::to_string(&key).unwrap();
            assert_eq!(text, format!("\"{}\"", key.as_str()));
        }
    }

    #[test]
    fn views_that_cannot_be_kept_are_refused_with_a_reason() {
        let ok = SiteViews {
            views: vec![view("v1", "Mine"), view("v2", "Failures")],
            default_view: Some("v2".to_owned()),
        };
        assert_eq!(ok.problem(), None);
        let cases = [
            (vec![view("v1", "  ")], None, "needs a name"),
            (vec![view("v1", "A"), view("v1", "B")], None, "no id"),
            (vec![view("default", "A")], None, "no id"),
            (vec![view("v1", "A"), view("v2", "a")], None, "already"),
            (vec![view("v1", "Default View")], None, "already"),
            (vec![view("v1", "A")], Some("v9"), "default view"),
        ];
        for (views, default_view, reason) in cases {
            let views = SiteViews {
                views,
                default_view: default_view.map(str::to_owned),
            };
            let problem = views.problem().expect(reason);
            assert!(problem.contains(reason), "{problem}");
        }
        let mut newer = view("v1", "A");
        newer.schema = VIEW_SCHEMA + 1;
        let views = SiteViews {
            views: vec![newer],
            default_view: None,
        };
        assert!(views.problem().unwrap().contains("newer"));
    }
}
