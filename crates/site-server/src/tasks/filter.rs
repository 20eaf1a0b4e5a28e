//! The Active tasks filters as SQL: one `WHERE` clause for the list, its
//! count and its facets, so the three can never disagree on what matches.

use site_api::{TaskFilter, TaskStatus, Timestamp};

use super::search::{push_search, Search};
use crate::db::{kind_column, status_column, Sql, ACTIVE_PREDICATE};
use crate::state::SiteRuntime;

/// Adds `WHERE` with the Site, the active predicate and every filter of
/// `filter` (the search as `search` planned it).
pub fn push_filters(
    sql: &mut Sql,
    site: &SiteRuntime,
    filter: &TaskFilter,
    search: Option<&Search>,
) {
    sql.push(" WHERE site_id = ")
        .push_bind(site.id().to_owned())
        .push(" AND ")
        .push(ACTIVE_PREDICATE);
    if running_only(filter) {
        // Written as the `tasks_running` index's own predicate.
        sql.push(" AND ").push(RUNNING_PREDICATE);
    }
    if !filter.statuses.is_empty() {
        push_in_list(
            sql,
            "status",
            filter.statuses.iter().map(|s| status_column(*s)),
        );
    }
    if !filter.kinds.is_empty() {
        push_in_list(sql, "kind", filter.kinds.iter().map(|k| kind_column(*k)));
    }
    if !filter.target_types.is_empty() {
        push_in_list(
            sql,
            "target_type",
            filter.target_types.iter().map(|t| t.as_str()),
        );
    }
    push_initiator(sql, filter.initiator.as_deref());
    if let Some(scope) = &filter.scope {
        let column = sql.dialect().nocase("scope");
        sql.push(format!(" AND {column} = "))
            .push_bind_nocase(scope.clone());
    }
    // Start dates are whole seconds: `since` rounds up, `until` down.
    if let Some(since) = filter.since {
        sql.push(" AND start_date >= ").push_bind(seconds_up(since));
    }
    if let Some(until) = filter.until {
        sql.push(" AND start_date <= ").push_bind(until.timestamp());
    }
    if let Some(service) = &filter.audit_service {
        sql.push(" AND audit_service_id = ")
            .push_bind(service.clone());
    }
    push_search(sql, search);
}

/// The `WHERE` of the `tasks_running` index (migration 0006).
const RUNNING_PREDICATE: &str = "status = 'running'";

/// True if and only if only running tasks can match: the status filter
/// says so, or an Audit Service is named (among active tasks only
/// running ones have one).
pub fn running_only(filter: &TaskFilter) -> bool {
    filter.statuses == [TaskStatus::Running] || filter.audit_service.is_some()
}

/// True if and only if `filter` narrows by status, kind and target type
/// alone, which the `active_counts` rows count without reading a task.
pub fn is_counted(filter: &TaskFilter) -> bool {
    *filter
        == TaskFilter {
            statuses: filter.statuses.clone(),
            kinds: filter.kinds.clone(),
            target_types: filter.target_types.clone(),
            ..TaskFilter::default()
        }
}

/// The index that finds the tasks of `filter`'s most selective filter:
/// running tasks (a few slots' worth), then one scope (one of many), one
/// initiator, a start-date range, target types, one kind. `None`: nothing
/// narrows enough to be worth an index of its own.
pub fn selective_index(filter: &TaskFilter) -> Option<&'static str> {
    if running_only(filter) {
        Some("tasks_running")
    } else if filter.scope.is_some() {
        Some("tasks_active_scope")
    } else if filter.initiator.is_some() {
        Some("tasks_active_initiator")
    } else if filter.since.is_some() || filter.until.is_some() {
        Some("tasks_active")
    } else {
        None
    }
}

/// [`selective_index`], or else one that at least holds fewer rows than
/// the whole queue: some target types, or one kind.
pub fn finding_index(filter: &TaskFilter) -> Option<&'static str> {
    if let Some(index) = selective_index(filter) {
        Some(index)
    } else if !filter.target_types.is_empty() && filter.target_types.len() < 3 {
        Some("tasks_active_target_type")
    } else if filter.kinds.len() == 1 {
        Some("tasks_active_task")
    } else {
        None
    }
}

/// Adds the `initiator` filter (case-insensitive), shared with the logs.
pub fn push_initiator(sql: &mut Sql, initiator: Option<&str>) {
    if let Some(initiator) = initiator {
        let column = sql.dialect().nocase("initiator");
        sql.push(format!(" AND {column} = "))
            .push_bind_nocase(initiator.to_owned());
    }
}

/// Adds ` AND <column> IN (<values>)`; no values match no row.
pub fn push_in_list(sql: &mut Sql, column: &str, values: impl IntoIterator<Item = &'static str>) {
    let mut values = values.into_iter().peekable();
    if values.peek().is_none() {
        sql.push(" AND FALSE");
        return;
    }
    sql.push(format!(" AND {column} IN ("))
        .push_bind_list(values)
        .push(")");
}

/// The first whole second at or after `time`.
pub fn seconds_up(time: Timestamp) -> i64 {
    let seconds = time.timestamp();
    if time.timestamp_subsec_nanos() > 0 {
        seconds + 1
    } else {
        seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_since_inside_a_second_starts_at_the_next_one() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        assert_eq!(
            seconds_up(at("2026-11-28T09:00:00Z")),
            at("2026-11-28T09:00:00Z").timestamp()
        );
        assert_eq!(
            seconds_up(at("2026-11-28T09:00:00.2Z")),
            at("2026-11-28T09:00:01Z").timestamp()
        );
    }
}
