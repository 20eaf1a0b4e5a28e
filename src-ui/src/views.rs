//! Views of the Active tasks list as plain data: the working state the
//! window shows, the built-in Default View, applying a saved view (merged
//! with the columns this build knows), dirty detection, column moves, and
//! export / import as JSON.

use std::collections::BTreeSet;

use site_api::{TargetType, TaskKind, TaskStatus};
use taskdeck_ipc::{
    ColumnKey, Density, InitiatorFilter, ListQuery, SavedView, SiteViews, StartedFilter,
    ViewColumn, ViewFilters, ViewSort, DEFAULT_VIEW_ID, MAX_VIEW_NAME, VIEW_SCHEMA,
};

use crate::tasks::SortSpec;

/// Rows read from the Site for a filtered list, and the live list's length;
/// "Show more" reads this many more.
pub const FILTERED_PAGE: u32 = 1000;

/// The most rows the list reads from a Site (the rest: narrow with a filter).
pub const MAX_LISTED: u32 = 20_000;

/// The narrowest a dragged column gets, in CSS pixels.
pub const MIN_COLUMN_WIDTH: u16 = 48;

/// The widest a dragged column gets, in CSS pixels.
pub const MAX_COLUMN_WIDTH: u16 = 1200;

/// The name of the built-in view.
pub const DEFAULT_VIEW_NAME: &str = "Default View";

/// What the list shows now: columns, order, filters, search and density.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewState {
    /// Every column this build knows, exactly once, in display order.
    pub columns: Vec<ViewColumn>,
    /// The order.
    pub sort: SortSpec,
    /// Only these statuses (none: all).
    pub statuses: BTreeSet<TaskStatus>,
    /// Only these kinds (none: both).
    pub kinds: BTreeSet<TaskKind>,
    /// Only these target types (none: all).
    pub target_types: BTreeSet<TargetType>,
    /// Only this initiator's tasks.
    pub initiator: Option<InitiatorFilter>,
    /// Only tasks of this whole scope, case-insensitively (blank: any).
    pub scope: String,
    /// Only tasks that entered the queue in this range.
    pub started: Option<StartedFilter>,
    /// Only the tasks this Audit Service (its id) is running.
    pub audit_service: Option<String>,
    /// The search text.
    pub search: String,
    /// Row density.
    pub density: Density,
}

impl Default for ViewState {
    /// The built-in Default View: the seed's six columns (the optional ones
    /// hidden), newest first, no filter.
    fn default() -> ViewState {
        ViewState {
            columns: ColumnKey::ALL
                .iter()
                .map(|&key| ViewColumn {
                    key,
                    visible: key.in_seed(),
                    width: None,
                })
                .collect(),
            sort: SortSpec::default(),
            statuses: BTreeSet::new(),
            kinds: BTreeSet::new(),
            target_types: BTreeSet::new(),
            initiator: None,
            scope: String::new(),
            started: None,
            audit_service: None,
            search: String::new(),
            density: Density::Comfortable,
        }
    }
}

impl ViewState {
    /// The state a saved view describes, merged with the columns this build
    /// knows: columns the view does not mention are added hidden at the
    /// end, columns this build does not know (or repeats) are dropped, and
    /// a sort by a column that cannot be sorted falls back to newest first.
    pub fn from_saved(view: &SavedView) -> ViewState {
        let mut seen = BTreeSet::new();
        let mut columns: Vec<ViewColumn> = view
            .columns
            .iter()
            .filter(|column| column.key != ColumnKey::Unknown && seen.insert(column.key))
            .map(|column| ViewColumn {
                width: column
                    .width
                    .map(|w| w.clamp(MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH)),
                ..*column
            })
            .collect();
        for key in ColumnKey::ALL {
            if !seen.contains(&key) {
                columns.push(ViewColumn {
                    key,
                    visible: false,
                    width: None,
                });
            }
        }
        let mut state = ViewState {
            columns,
            sort: view
                .sort
                .column
                .sort_key()
                .map(|column| SortSpec {
                    column,
                    descending: view.sort.descending,
                })
                .unwrap_or_default(),
            statuses: view.filters.statuses.clone(),
            kinds: view.filters.kinds.clone(),
            target_types: view.filters.target_types.clone(),
            initiator: view.filters.initiator.clone(),
            scope: view.filters.scope.clone().unwrap_or_default(),
            started: view.filters.started,
            audit_service: view.filters.audit_service.clone(),
            search: view.search.clone(),
            density: view.density,
        };
        // A view never hides everything.
        if state.visible_columns().is_empty() {
            state.columns[0].visible = true;
        }
        state
    }

    /// This state saved as a view with `id` and `name`.
    pub fn to_saved(&self, id: &str, name: &str) -> SavedView {
        SavedView {
            schema: VIEW_SCHEMA,
            id: id.to_owned(),
            name: name.trim().to_owned(),
            columns: self.columns.clone(),
            sort: ViewSort {
                column: ColumnKey::of_sort(self.sort.column),
                descending: self.sort.descending,
            },
            filters: ViewFilters {
                statuses: self.statuses.clone(),
                kinds: self.kinds.clone(),
                target_types: self.target_types.clone(),
                initiator: self.initiator.clone(),
                scope: Some(self.scope.trim().to_owned()).filter(|s| !s.is_empty()),
                started: self.started,
                audit_service: self.audit_service.clone(),
            },
            search: self.search.clone(),
            density: self.density,
        }
    }

    /// The shown columns, in order.
    pub fn visible_columns(&self) -> Vec<ColumnKey> {
        visible_columns(&self.columns)
    }

    /// The Site query for this state, `None` for the seed's default list
    /// (then the live snapshot is shown). `me` is the shown connection's
    /// user, for the "my tasks" filter.
    pub fn query(&self, me: Option<&str>) -> Option<ListQuery> {
        let q = self.search.trim();
        let default_sort = self.sort == SortSpec::default();
        let initiator = match &self.initiator {
            None => None,
            Some(InitiatorFilter::Me) => Some(me.unwrap_or_default().to_owned()),
            Some(InitiatorFilter::Schedule) => Some("Schedule".to_owned()),
            Some(InitiatorFilter::Email(email)) => Some(email.trim().to_owned()),
        }
        .filter(|initiator| !initiator.is_empty());
        let scope = Some(self.scope.trim().to_owned()).filter(|s| !s.is_empty());
        let audit_service = self.audit_service.clone().filter(|s| !s.is_empty());
        let unfiltered = q.is_empty()
            && self.statuses.is_empty()
            && self.kinds.is_empty()
            && self.target_types.is_empty()
            && initiator.is_none()
            && scope.is_none()
            && self.started.is_none()
            && audit_service.is_none();
        if unfiltered && default_sort {
            return None;
        }
        Some(ListQuery {
            site: site_api::ActiveTasksQuery {
                filter: site_api::TaskFilter {
                    statuses: self.statuses.iter().copied().collect(),
                    kinds: self.kinds.iter().copied().collect(),
                    initiator,
                    target_types: self.target_types.iter().copied().collect(),
                    q: (!q.is_empty()).then(|| q.to_owned()),
                    scope,
                    audit_service,
                    ..site_api::TaskFilter::default()
                },
                sort: self.sort.column,
                order: if self.sort.descending {
                    site_api::Order::Desc
                } else {
                    site_api::Order::Asc
                },
                ..site_api::ActiveTasksQuery::default()
            },
            rows: Some(FILTERED_PAGE),
            started: self.started,
        })
    }

    /// The same columns and density as `base` (the view's saved state),
    /// keeping this state's sort, filters and search.
    pub fn with_layout_of(&self, base: &ViewState) -> ViewState {
        ViewState {
            columns: base.columns.clone(),
            density: base.density,
            ..self.clone()
        }
    }
}

/// The Site query that reads `rows` rows of the list `query` asks for:
/// `None` (the live list) only while the seed's default list is wanted
/// within its first page; beyond it, the default list is read like a
/// filtered one (the desktop backend follows the Site's cursors).
pub fn reading(query: Option<ListQuery>, rows: u32) -> Option<ListQuery> {
    let rows = rows.clamp(FILTERED_PAGE, MAX_LISTED);
    match query {
        Some(mut query) => {
            query.rows = Some(rows);
            Some(query)
        }
        None if rows > FILTERED_PAGE => Some(ListQuery {
            rows: Some(rows),
            ..ListQuery::default()
        }),
        None => None,
    }
}

/// `n` with thousands separated by commas: 100000 → "100,000".
pub fn grouped(n: u64) -> String {
    taskdeck_ipc::grouped(n)
}

/// The shown columns of `columns`, in order.
pub fn visible_columns(columns: &[ViewColumn]) -> Vec<ColumnKey> {
    columns
        .iter()
        .filter(|column| column.visible)
        .map(|column| column.key)
        .collect()
}

/// Shows or hides `key`; the last shown column stays shown.
pub fn toggle_column(columns: &mut [ViewColumn], key: ColumnKey) {
    let shown = columns.iter().filter(|c| c.visible).count();
    if let Some(column) = columns.iter_mut().find(|c| c.key == key) {
        if !(column.visible && shown == 1) {
            column.visible = !column.visible;
        }
    }
}

/// Moves `key` one place earlier (`-1`) or later (`1`); nothing at the ends.
pub fn move_column(columns: &mut [ViewColumn], key: ColumnKey, step: isize) {
    let Some(from) = columns.iter().position(|c| c.key == key) else {
        return;
    };
    let to = from as isize + step;
    if (0..columns.len() as isize).contains(&to) {
        columns.swap(from, to as usize);
    }
}

/// Moves `key` to the place of `target` (a drop in drag and drop): the
/// columns between shift by one.
pub fn move_column_to(columns: &mut Vec<ViewColumn>, key: ColumnKey, target: ColumnKey) {
    let (Some(from), Some(to)) = (
        columns.iter().position(|c| c.key == key),
        columns.iter().position(|c| c.key == target),
    ) else {
        return;
    };
    let column = columns.remove(from);
    columns.insert(to, column);
}

/// Sets the width of `key`, within [`MIN_COLUMN_WIDTH`]..=[`MAX_COLUMN_WIDTH`].
pub fn set_column_width(columns: &mut [ViewColumn], key: ColumnKey, width: f64) {
    if let Some(column) = columns.iter_mut().find(|c| c.key == key) {
        column.width = Some(width.clamp(MIN_COLUMN_WIDTH as f64, MAX_COLUMN_WIDTH as f64) as u16);
    }
}

/// The saved state of the view with `id` (the built-in Default View for
/// [`DEFAULT_VIEW_ID`] or an id no longer saved).
pub fn saved_state(views: &SiteViews, id: &str) -> ViewState {
    views
        .views
        .iter()
        .find(|view| view.id == id)
        .map(ViewState::from_saved)
        .unwrap_or_default()
}

/// The name of the view with `id`.
pub fn view_name(views: &SiteViews, id: &str) -> String {
    views
        .views
        .iter()
        .find(|view| view.id == id)
        .map(|view| view.name.clone())
        .unwrap_or_else(|| DEFAULT_VIEW_NAME.to_owned())
}

/// True if and only if the window shows something other than the view's
/// saved state (the "unsaved changes" marker).
pub fn is_dirty(views: &SiteViews, id: &str, current: &ViewState) -> bool {
    saved_state(views, id) != *current
}

/// A fresh view id, unused in `views`.
pub fn new_view_id(views: &SiteViews) -> String {
    (1..)
        .map(|n| format!("view-{n}"))
        .find(|id| views.views.iter().all(|view| &view.id != id))
        .unwrap_or_default()
}

/// Why `name` cannot name a new view (or the view `renaming`), if it cannot.
pub fn name_problem(views: &SiteViews, name: &str, renaming: Option<&str>) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        return Some("Give the view a name.".to_owned());
    }
    if name.chars().count() > MAX_VIEW_NAME {
        return Some(format!(
            "A view name is at most {MAX_VIEW_NAME} characters."
        ));
    }
    let taken = name.eq_ignore_ascii_case(DEFAULT_VIEW_NAME)
        || views
            .views
            .iter()
            .any(|view| Some(view.id.as_str()) != renaming && view.name.eq_ignore_ascii_case(name));
    taken.then(|| format!("There is already a view named “{name}”."))
}

/// The views after saving `current` as a new view named `name`, and its id.
pub fn save_as(views: &SiteViews, current: &ViewState, name: &str) -> (SiteViews, String) {
    let id = new_view_id(views);
    let mut next = views.clone();
    next.views.push(current.to_saved(&id, name));
    (next, id)
}

/// The views after saving `current` over the view `id` (keeping its name).
pub fn save_over(views: &SiteViews, id: &str, current: &ViewState) -> SiteViews {
    let mut next = views.clone();
    if let Some(view) = next.views.iter_mut().find(|view| view.id == id) {
        *view = current.to_saved(id, &view.name);
    }
    next
}

/// The views after renaming `id`.
pub fn rename(views: &SiteViews, id: &str, name: &str) -> SiteViews {
    let mut next = views.clone();
    if let Some(view) = next.views.iter_mut().find(|view| view.id == id) {
        view.name = name.trim().to_owned();
    }
    next
}

/// The views after deleting `id` (no longer the default if it was).
pub fn delete(views: &SiteViews, id: &str) -> SiteViews {
    let mut next = views.clone();
    next.views.retain(|view| view.id != id);
    if next.default_view.as_deref() == Some(id) {
        next.default_view = None;
    }
    next
}

/// The views with `id` opening at start ([`DEFAULT_VIEW_ID`]: the built-in).
pub fn set_default(views: &SiteViews, id: &str) -> SiteViews {
    SiteViews {
        default_view: (id != DEFAULT_VIEW_ID).then(|| id.to_owned()),
        ..views.clone()
    }
}

/// The view `id` as a JSON document to keep or share.
pub fn export_json(views: &SiteViews, id: &str, current: &ViewState) -> String {
    let view = current.to_saved(id, &view_name(views, id));
    serde_json::to_string_pretty(&view).unwrap_or_default()
}

/// A view read from an exported JSON document, added to `views` under a
/// fresh id (and a name made unique with a number if needed).
pub fn import_json(views: &SiteViews, text: &str) -> Result<(SiteViews, String), String> {
    let view: SavedView = serde_json::from_str(text.trim())
        .map_err(|error| format!("This is not a Taskdeck view: {error}."))?;
    if view.schema > VIEW_SCHEMA {
        return Err(format!(
            "This view was made by a newer Taskdeck (view schema {}).",
            view.schema
        ));
    }
    let base = view.name.trim();
    let base = if base.is_empty() {
        "Imported view"
    } else {
        base
    };
    let name = (1..)
        .map(|n| {
            if n == 1 {
                base.to_owned()
            } else {
                format!("{base} ({n})")
            }
        })
        .find(|name| name_problem(views, name, None).is_none())
        .ok_or_else(|| "The view has no usable name.".to_owned())?;
    let state = ViewState::from_saved(&view);
    let (next, id) = save_as(views, &state, &name);
    Ok((next, id))
}

/// Is this the built-in view?
pub fn is_builtin(id: &str) -> bool {
    id == DEFAULT_VIEW_ID
}

#[cfg(test)]
mod tests {
    use super::*;
    use site_api::SortKey;

    fn keys(columns: &[ViewColumn]) -> Vec<&'static str> {
        columns.iter().map(|c| c.key.as_str()).collect()
    }

    #[test]
    fn the_default_view_is_the_seeds_six_columns_newest_first() {
        let state = ViewState::default();
        assert_eq!(
            state
                .visible_columns()
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>(),
            [
                "target",
                "task",
                "start-date",
                "scope",
                "initiator",
                "status"
            ]
        );
        assert_eq!(state.columns.len(), ColumnKey::ALL.len());
        assert_eq!(state.sort, SortSpec::default());
        assert_eq!(state.query(None), None, "the live list, no Site query");
    }

    #[test]
    fn more_rows_read_the_default_list_from_the_site_and_stay_capped() {
        assert_eq!(reading(None, FILTERED_PAGE), None, "the live list");
        let beyond = reading(None, 3 * FILTERED_PAGE).unwrap();
        assert_eq!(beyond.rows, Some(3000));
        assert!(beyond.site.filter.is_empty(), "still the unfiltered list");
        let mut state = ViewState::default();
        state.statuses.insert(TaskStatus::Queued);
        let filtered = reading(state.query(None), 5 * MAX_LISTED).unwrap();
        assert_eq!(filtered.site.filter.statuses, [TaskStatus::Queued]);
        assert_eq!(filtered.rows, Some(MAX_LISTED));
        assert_eq!(
            reading(state.query(None), 0).unwrap().rows,
            Some(FILTERED_PAGE)
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn a_saved_view_round_trips_and_applies_its_filters_to_the_query() {
        let mut state = ViewState::default();
        toggle_column(&mut state.columns, ColumnKey::Scope);
        toggle_column(&mut state.columns, ColumnKey::Progress);
        move_column(&mut state.columns, ColumnKey::Status, -5);
        set_column_width(&mut state.columns, ColumnKey::Target, 260.4);
        state.statuses.insert(TaskStatus::Running);
        state.search = "ws-0".to_owned();
        state.density = Density::Compact;
        state.sort = SortSpec::default().clicked(SortKey::Target);
        state.scope = "HQ-LAN".to_owned();
        state.started = Some(StartedFilter::OlderThan { hours: 4 });
        let saved = state.to_saved("view-1", "  Running now ");
        assert_eq!(saved.name, "Running now");
        let text = serde_json::to_string(&saved).unwrap();
        let back: SavedView = serde_json::from_str(&text).unwrap();
        assert_eq!(ViewState::from_saved(&back), state);
        assert_eq!(keys(&state.columns)[0], "status");
        let query = state.query(None).unwrap();
        assert_eq!(query.site.filter.statuses, [TaskStatus::Running]);
        assert_eq!(query.site.filter.q.as_deref(), Some("ws-0"));
        assert_eq!(query.site.sort, SortKey::Target);
        assert_eq!(query.site.filter.scope.as_deref(), Some("HQ-LAN"));
        assert_eq!(query.started, Some(StartedFilter::OlderThan { hours: 4 }));
    }

    #[test]
    fn filters_become_a_server_query_and_none_means_the_live_list() {
        let mut state = ViewState {
            search: "  ".to_owned(),
            ..ViewState::default()
        };
        assert_eq!(state.query(Some("a@b.c")), None);
        state.search = " ws-00 ".to_owned();
        state.statuses.insert(TaskStatus::Running);
        state.kinds.extend([TaskKind::Scan, TaskKind::Audit]);
        state
            .target_types
            .extend([TargetType::Device, TargetType::CloudResource]);
        let query = state.query(None).unwrap();
        assert_eq!(query.site.filter.q.as_deref(), Some("ws-00"));
        assert_eq!(query.site.filter.statuses, [TaskStatus::Running]);
        assert_eq!(query.site.filter.kinds, [TaskKind::Scan, TaskKind::Audit]);
        assert_eq!(
            query.site.filter.target_types,
            [TargetType::Device, TargetType::CloudResource]
        );
        assert_eq!(
            (
                query.site.sort,
                query.site.order,
                query.site.filter.initiator
            ),
            (SortKey::StartDate, site_api::Order::Desc, None)
        );
        assert!(!state.query(None).unwrap().uses_revision_1_1());
        // A scope or a start-date range alone is a filter too; a blank
        // scope is none.
        let scoped = ViewState {
            scope: "  ".to_owned(),
            ..ViewState::default()
        };
        assert_eq!(scoped.query(None), None);
        let scoped = ViewState {
            scope: " Segment HQ ".to_owned(),
            ..ViewState::default()
        };
        let query = scoped.query(None).unwrap();
        assert_eq!(query.site.filter.scope.as_deref(), Some("Segment HQ"));
        assert_eq!(query.site.filter.q, None);
        let on_a_service = ViewState {
            audit_service: Some("as-2".to_owned()),
            ..ViewState::default()
        };
        let query = on_a_service.query(None).unwrap();
        assert_eq!(query.site.filter.audit_service.as_deref(), Some("as-2"));
        let recent = ViewState {
            started: Some(StartedFilter::Within { hours: 24 }),
            ..ViewState::default()
        };
        assert!(recent.query(None).is_some());
        // Initiators: me is whoever the connection acts as.
        let mine = ViewState {
            initiator: Some(InitiatorFilter::Me),
            ..ViewState::default()
        };
        assert_eq!(
            mine.query(Some("alice@example.com"))
                .unwrap()
                .site
                .filter
                .initiator
                .as_deref(),
            Some("alice@example.com")
        );
        assert_eq!(mine.query(None), None, "nobody yet: no filter");
        let scheduled = ViewState {
            initiator: Some(InitiatorFilter::Schedule),
            ..ViewState::default()
        };
        assert_eq!(
            scheduled
                .query(None)
                .unwrap()
                .site
                .filter
                .initiator
                .as_deref(),
            Some("Schedule")
        );
        // Another order alone asks the Site too.
        let by_task = ViewState {
            sort: SortSpec::default().clicked(SortKey::Task),
            ..ViewState::default()
        };
        let query = by_task.query(None).unwrap();
        assert_eq!(query.site.sort, SortKey::Task);
        assert_eq!(query.site.order, site_api::Order::Asc);
    }

    #[test]
    fn unknown_columns_are_dropped_and_missing_ones_added_hidden() {
        let text = r#"{
            "schema": 1, "id": "view-1", "name": "Old",
            "columns": [
                {"key": "status", "visible": true, "width": 9},
                {"key": "cost-centre", "visible": true},
                {"key": "target", "visible": false},
                {"key": "status", "visible": false}
            ],
            "sort": {"column": "progress", "descending": false}
        }"#;
        let view: SavedView = serde_json::from_str(text).unwrap();
        let state = ViewState::from_saved(&view);
        assert_eq!(
            keys(&state.columns),
            [
                "status",
                "target",
                "task",
                "start-date",
                "scope",
                "initiator",
                "audit-service",
                "running-for",
                "progress"
            ]
        );
        assert_eq!(state.visible_columns(), [ColumnKey::Status]);
        assert_eq!(
            state.columns[0].width,
            Some(MIN_COLUMN_WIDTH),
            "widths clamped"
        );
        assert_eq!(state.sort, SortSpec::default(), "progress is not sortable");
        // A view that hides everything still shows one column.
        let mut none = view.clone();
        none.columns.iter_mut().for_each(|c| c.visible = false);
        assert_eq!(ViewState::from_saved(&none).visible_columns().len(), 1);
    }

    #[test]
    fn column_moves_toggles_and_drops() {
        let mut columns = ViewState::default().columns;
        move_column(&mut columns, ColumnKey::Target, -1);
        assert_eq!(keys(&columns)[0], "target", "nothing before the first");
        move_column(&mut columns, ColumnKey::Target, 1);
        assert_eq!(keys(&columns)[..2], ["task", "target"]);
        move_column_to(&mut columns, ColumnKey::Progress, ColumnKey::Task);
        assert_eq!(keys(&columns)[..3], ["progress", "task", "target"]);
        move_column_to(&mut columns, ColumnKey::Progress, ColumnKey::Status);
        assert_eq!(keys(&columns)[..3], ["task", "target", "start-date"]);
        assert_eq!(keys(&columns)[5..7], ["status", "progress"]);
        // Toggling every column: the seed's six would all hide, but the
        // last of them stays shown; the three optional ones show.
        for key in ColumnKey::ALL {
            toggle_column(&mut columns, key);
        }
        assert_eq!(
            visible_columns(&columns),
            [
                ColumnKey::Status,
                ColumnKey::Progress,
                ColumnKey::AuditService,
                ColumnKey::RunningFor
            ]
        );
        for key in ColumnKey::ALL {
            if visible_columns(&columns).contains(&key) {
                toggle_column(&mut columns, key);
            }
        }
        assert_eq!(visible_columns(&columns).len(), 1);
    }

    #[test]
    fn saving_renaming_defaults_and_dirty_marks() {
        let empty = SiteViews::default();
        let mut current = ViewState::default();
        assert!(!is_dirty(&empty, DEFAULT_VIEW_ID, &current));
        current.kinds.insert(TaskKind::Audit);
        assert!(is_dirty(&empty, DEFAULT_VIEW_ID, &current));
        let (views, id) = save_as(&empty, &current, "Audits");
        assert_eq!(id, "view-1");
        assert!(!is_dirty(&views, &id, &current));
        assert_eq!(view_name(&views, &id), "Audits");
        assert_eq!(views.problem(), None);
        // Names: unique (any case), not the built-in's, not blank.
        assert!(name_problem(&views, "audits", None).is_some());
        assert!(name_problem(&views, "Default View", None).is_some());
        assert!(name_problem(&views, " ", None).is_some());
        assert_eq!(name_problem(&views, "AUDITS", Some(&id)), None, "own name");
        let (views, second) = save_as(&views, &ViewState::default(), "Everything");
        assert_eq!(second, "view-2");
        let views = set_default(&rename(&views, &id, "Audit runs"), &id);
        assert_eq!(views.default_view.as_deref(), Some("view-1"));
        assert_eq!(view_name(&views, &id), "Audit runs");
        current.search = "hq".to_owned();
        assert!(is_dirty(&views, &id, &current));
        let views = save_over(&views, &id, &current);
        assert!(!is_dirty(&views, &id, &current));
        assert_eq!(view_name(&views, &id), "Audit runs");
        let views = delete(&views, &id);
        assert_eq!(views.default_view, None, "the default went with it");
        assert_eq!(views.views.len(), 1);
        assert_eq!(new_view_id(&views), "view-1");
        assert_eq!(set_default(&views, DEFAULT_VIEW_ID).default_view, None);
        assert_eq!(saved_state(&views, "gone"), ViewState::default());
    }

    #[test]
    fn export_and_import_as_json() {
        let mut current = ViewState::default();
        current.statuses.insert(TaskStatus::Queued);
        let (views, id) = save_as(&SiteViews::default(), &current, "Queue");
        let text = export_json(&views, &id, &current);
        let (views, imported) = import_json(&views, &text).unwrap();
        assert_eq!(view_name(&views, &imported), "Queue (2)");
        assert_eq!(saved_state(&views, &imported), current);
        assert_eq!(views.problem(), None);
        let error = import_json(&views, "{\"name\": 3}").unwrap_err();
        assert!(error.contains("not a Taskdeck view"), "{error}");
        let newer = text.replace(
            &format!("\"schema\": {VIEW_SCHEMA}"),
            &format!("\"schema\": {}", VIEW_SCHEMA + 1),
        );
        assert_ne!(newer, text);
        assert!(import_json(&views, &newer).unwrap_err().contains("newer"));
    }

    #[test]
    fn resetting_the_layout_keeps_filters() {
        let base = ViewState::default();
        let mut current = base.clone();
        toggle_column(&mut current.columns, ColumnKey::Scope);
        current.density = Density::Compact;
        current.search = "x".to_owned();
        let reset = current.with_layout_of(&base);
        assert_eq!(reset.columns, base.columns);
        assert_eq!(reset.density, Density::Comfortable);
        assert_eq!(reset.search, "x");
    }
}
