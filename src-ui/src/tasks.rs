//! The Active tasks list as the UI holds it: pure functions over snapshots.

use site_api::SortKey;
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

/// The rows of a page the Site filtered and sorted: active tasks only, in
/// the Site's order.
pub fn page_rows_in_order(page: &site_api::ActiveTasksPage) -> Vec<Task> {
    page.tasks
        .iter()
        .filter(|task| !task.status.is_terminal())
        .cloned()
        .collect()
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

/// The live rows with the tasks that just ended put back in their places
/// (newest first), showing their final status; an ending is newer than any
/// live row of the same task (a list never holds ended tasks).
pub fn with_endings(live: Vec<Task>, ending: &[Task]) -> Vec<Task> {
    let mut rows: Vec<Task> = live
        .into_iter()
        .filter(|row| !ending.iter().any(|task| task.id == row.id))
        .collect();
    rows.extend(ending.iter().cloned());
    rows.sort_by(newest_first);
    rows
}

/// The rows to render of `count` rows `row_height` px tall, seen through
/// a viewport `viewport` px tall scrolled to `scroll_top`, with `overscan`
/// rows more on each side: `start..end`.
pub fn visible_window(
    scroll_top: f64,
    viewport: f64,
    row_height: f64,
    count: usize,
    overscan: usize,
) -> std::ops::Range<usize> {
    if count == 0 || row_height <= 0.0 {
        return 0..0;
    }
    // The window moves in steps of half the overscan, so that scrolling
    // renders new rows every few rows rather than at every one.
    let step = (overscan / 2).max(1);
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let first = first / step * step;
    let seen = (viewport.max(0.0) / row_height).ceil() as usize + step + 1;
    let start = first.saturating_sub(overscan).min(count);
    let end = (first + seen + overscan).min(count);
    start..end
}

/// The most rows any [`visible_window`] over this viewport holds, however
/// long the list and wherever it is scrolled: the number of row slots.
pub fn window_capacity(viewport: f64, row_height: f64, overscan: usize) -> usize {
    if row_height <= 0.0 {
        return 1;
    }
    let step = (overscan / 2).max(1);
    (viewport.max(0.0) / row_height).ceil() as usize + step + 1 + 2 * overscan
}

/// The list's order: a column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortSpec {
    /// The column.
    pub column: SortKey,
    /// Largest first.
    pub descending: bool,
}

impl Default for SortSpec {
    /// The seed's default: newest start date first.
    fn default() -> SortSpec {
        SortSpec {
            column: SortKey::StartDate,
            descending: true,
        }
    }
}

impl SortSpec {
    /// After a click on `column`'s header: the same column flips; another
    /// starts ascending (the start date newest first).
    pub fn clicked(self, column: SortKey) -> SortSpec {
        if self.column == column {
            SortSpec {
                column,
                descending: !self.descending,
            }
        } else {
            SortSpec {
                column,
                descending: column == SortKey::StartDate,
            }
        }
    }
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
    fn header_clicks_flip_the_order_or_start_a_new_column_ascending() {
        let newest = SortSpec::default();
        let oldest = newest.clicked(SortKey::StartDate);
        assert!(!oldest.descending);
        let by_target = oldest.clicked(SortKey::Target);
        assert_eq!(
            by_target,
            SortSpec {
                column: SortKey::Target,
                descending: false
            }
        );
        assert!(by_target.clicked(SortKey::Target).descending);
        assert_eq!(by_target.clicked(SortKey::StartDate), newest);
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
    fn ended_tasks_stay_in_their_place_for_a_moment() {
        let live = vec![
            task(
                TaskKind::Scan,
                3,
                "2026-11-28T09:05:00Z",
                TaskStatus::Queued,
            ),
            task(
                TaskKind::Scan,
                1,
                "2026-11-28T09:00:00Z",
                TaskStatus::Running,
            ),
        ];
        let ended = [
            task(
                TaskKind::Scan,
                2,
                "2026-11-28T09:01:00Z",
                TaskStatus::Finished,
            ),
            task(
                TaskKind::Scan,
                3,
                "2026-11-28T09:05:00Z",
                TaskStatus::Cancelled,
            ),
        ];
        let rows = with_endings(live, &ended);
        let shown: Vec<(String, TaskStatus)> =
            rows.iter().map(|t| (t.id.to_string(), t.status)).collect();
        assert_eq!(
            shown,
            [
                ("scan-3".to_owned(), TaskStatus::Cancelled),
                ("scan-2".to_owned(), TaskStatus::Finished),
                ("scan-1".to_owned(), TaskStatus::Running),
            ]
        );
    }

    #[test]
    fn only_the_rows_in_view_are_rendered() {
        // 10 rows seen, 2 more for the step, 5 beyond on each side.
        assert_eq!(visible_window(0.0, 330.0, 33.0, 1000, 5), 0..18);
        assert_eq!(visible_window(3300.0, 330.0, 33.0, 1000, 5), 95..118);
        // Within a step the window stays put: no new rows to render.
        assert_eq!(visible_window(3333.0, 330.0, 33.0, 1000, 5), 95..118);
        assert_eq!(visible_window(3366.0, 330.0, 33.0, 1000, 5), 97..120);
        assert_eq!(visible_window(1e9, 330.0, 33.0, 1000, 5), 1000..1000);
        assert_eq!(visible_window(32_900.0, 330.0, 33.0, 1000, 5), 991..1000);
        assert_eq!(visible_window(0.0, 330.0, 33.0, 0, 5), 0..0);
        assert_eq!(visible_window(-5.0, 66.0, 33.0, 3, 0), 0..3);
        // Every window fits the slots, wherever the list is scrolled.
        for (viewport, height, overscan) in [(330.0, 33.0, 5), (800.0, 25.0, 20), (1.0, 33.0, 0)] {
            let capacity = window_capacity(viewport, height, overscan);
            for scroll in 0..2000 {
                let window = visible_window(scroll as f64 * 7.0, viewport, height, 1000, overscan);
                assert!(window.len() <= capacity, "{window:?} over {capacity}");
            }
        }
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
