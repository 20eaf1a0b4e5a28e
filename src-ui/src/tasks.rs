//! The Active tasks list as the UI holds it: pure functions over snapshots.

use std::cmp::Ordering;

use site_api::Task;
use taskdeck_ipc::ActiveTasksSnapshot;

/// The seed's default order: newest start date first, ties by number, then
/// kind, descending.
pub fn newest_first(a: &Task, b: &Task) -> Ordering {
    b.start_date
        .cmp(&a.start_date)
        .then_with(|| b.number.cmp(&a.number))
        .then_with(|| b.kind.cmp(&a.kind))
}

/// The rows to show from a snapshot: active tasks only, newest first.
pub fn visible_rows(snapshot: &ActiveTasksSnapshot) -> Vec<Task> {
    visible_page_rows(&snapshot.page)
}

/// The rows to show from a page: active tasks only, newest first.
pub fn visible_page_rows(page: &site_api::ActiveTasksPage) -> Vec<Task> {
    let mut rows: Vec<Task> = page
        .tasks
        .iter()
        .filter(|task| !task.status.is_terminal())
        .cloned()
        .collect();
    rows.sort_by(newest_first);
    rows
}

/// The server query for the filters and search in force, or `None` when
/// the list is unfiltered (then the live snapshot is shown).
pub fn list_query(
    search: &str,
    statuses: &std::collections::BTreeSet<site_api::TaskStatus>,
    kinds: &std::collections::BTreeSet<site_api::TaskKind>,
) -> Option<taskdeck_ipc::ListQuery> {
    let q = search.trim();
    if q.is_empty() && statuses.is_empty() && kinds.is_empty() {
        return None;
    }
    let join = |values: Vec<&str>| (!values.is_empty()).then(|| values.join(","));
    Some(taskdeck_ipc::ListQuery {
        status: join(statuses.iter().map(|s| s.as_str()).collect()),
        kind: join(kinds.iter().map(|k| k.as_str()).collect()),
        q: (!q.is_empty()).then(|| q.to_owned()),
        limit: Some(1000),
    })
}

/// True if and only if `incoming` should replace `current`: it is of
/// another Site, or of a later (or equal, re-sent) revision.
pub fn supersedes(current: Option<&ActiveTasksSnapshot>, incoming: &ActiveTasksSnapshot) -> bool {
    match current {
        None => true,
        Some(current) => {
            current.site_id != incoming.site_id || incoming.page.revision >= current.page.revision
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use site_api::{
        ActiveTasksPage, Initiator, StatusCounts, Target, TargetType, TaskId, TaskKind, TaskStatus,
    };

    #[test]
    fn filters_become_a_server_query_and_none_means_the_live_list() {
        use std::collections::BTreeSet;
        let none = BTreeSet::new();
        assert_eq!(list_query("  ", &none, &BTreeSet::new()), None);
        let running: BTreeSet<TaskStatus> = [TaskStatus::Running].into();
        let kinds: BTreeSet<TaskKind> = [TaskKind::Scan, TaskKind::Audit].into();
        let query = list_query(" ws-00 ", &running, &kinds).unwrap();
        assert_eq!(query.q.as_deref(), Some("ws-00"));
        assert_eq!(query.status.as_deref(), Some("running"));
        assert_eq!(query.kind.as_deref(), Some("scan,audit"));
        let only_search = list_query("hq", &none, &BTreeSet::new()).unwrap();
        assert_eq!((only_search.status, only_search.kind), (None, None));
    }

    fn task(kind: TaskKind, number: u64, start: &str, status: TaskStatus) -> Task {
        let id = TaskId::new(kind, number);
        Task {
            id,
            kind,
            number,
            label: id.label(),
            target: Target {
                target_type: TargetType::Segment,
                name: "HQ-LAN".into(),
            },
            start_date: start.parse().unwrap(),
            scope: "HQ".into(),
            initiator: Initiator::User("a@b.c".into()),
            schedule: None,
            status,
            audit_service: None,
            running_since: None,
            progress: None,
            end_date: None,
            errors: 0,
        }
    }

    fn snapshot(revision: u64, tasks: Vec<Task>) -> ActiveTasksSnapshot {
        ActiveTasksSnapshot {
            site_id: "demo".into(),
            page: ActiveTasksPage {
                total: tasks.len() as u64,
                tasks,
                next_cursor: None,
                counts: StatusCounts::default(),
                revision,
            },
            fetched_at: "2026-11-28T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn rows_are_newest_first_with_ties_by_number() {
        let rows = visible_rows(&snapshot(
            1,
            vec![
                task(
                    TaskKind::Scan,
                    1,
                    "2026-11-28T09:00:00Z",
                    TaskStatus::Running,
                ),
                task(
                    TaskKind::Scan,
                    3,
                    "2026-11-28T09:05:00Z",
                    TaskStatus::Queued,
                ),
                task(
                    TaskKind::Audit,
                    2,
                    "2026-11-28T09:05:00Z",
                    TaskStatus::Queued,
                ),
                task(
                    TaskKind::Scan,
                    2,
                    "2026-11-28T09:01:00Z",
                    TaskStatus::Finished,
                ),
            ],
        ));
        let ids: Vec<String> = rows.iter().map(|t| t.id.to_string()).collect();
        assert_eq!(ids, ["scan-3", "audit-2", "scan-1"], "terminal rows leave");
    }

    #[test]
    fn older_snapshots_never_replace_newer_ones() {
        let newer = snapshot(10, vec![]);
        let older = snapshot(9, vec![]);
        assert!(supersedes(None, &older));
        assert!(!supersedes(Some(&newer), &older));
        assert!(supersedes(Some(&older), &newer));
        let mut other_site = snapshot(1, vec![]);
        other_site.site_id = "hq".into();
        assert!(supersedes(Some(&newer), &other_site));
    }
}
