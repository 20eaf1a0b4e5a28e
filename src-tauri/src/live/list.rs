//! The Active tasks list as the backend keeps it between reads: the first
//! page (newest first) with every task event applied, and the Site's counts
//! kept exact from the transitions the events show.
//!
//! Pure logic: no Tauri, no HTTP; `cargo test` reaches all of it.

use std::cmp::Reverse;

use site_api::{ActiveTasksPage, Task, TaskStatus};

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The list or its counts changed.
    Changed,
    /// Nothing to do: an event at or before the list's revision (a replay
    /// of something the list already holds).
    Stale,
}

/// The newest active tasks of one Site, kept live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveList {
    page: ActiveTasksPage,
    limit: usize,
}

/// The list's order: start date, newest first; ties by number, then kind.
fn order_key(task: &Task) -> Reverse<(site_api::Timestamp, u64, site_api::TaskKind)> {
    Reverse((task.start_date, task.number, task.kind))
}

impl LiveList {
    /// Starts from the first page, read with `limit` rows at most.
    pub fn new(page: ActiveTasksPage, limit: usize) -> LiveList {
        LiveList { page, limit }
    }

    /// The list as a page: rows newest first, counts, total and revision.
    pub fn page(&self) -> &ActiveTasksPage {
        &self.page
    }

    /// The revision of the last change applied.
    pub fn revision(&self) -> u64 {
        self.page.revision
    }

    /// Applies a task event carrying `revision`.
    pub fn apply(&mut self, revision: Option<u64>, task: Task) -> Applied {
        if let Some(revision) = revision {
            if revision <= self.page.revision {
                return Applied::Stale;
            }
            self.page.revision = revision;
        }
        let position = self.page.tasks.iter().position(|row| row.id == task.id);
        let before = match position {
            Some(index) => Some(self.page.tasks[index].status),
            None => previous_status(&task),
        };
        self.count(before, task.status);
        match (position, task.status.is_terminal()) {
            (Some(index), true) => {
                self.page.tasks.remove(index);
            }
            (Some(index), false) => self.page.tasks[index] = task,
            (None, true) => {}
            (None, false) => self.insert(task),
        }
        self.page.total = self.page.counts.queued + self.page.counts.running;
        Applied::Changed
    }

    /// True when so many rows left the window that a fresh read is due:
    /// fewer than half the page while the Site has more.
    pub fn needs_refetch(&self) -> bool {
        let shown = self.page.tasks.len() as u64;
        shown < self.page.total && self.page.tasks.len() < self.limit / 2
    }

    fn insert(&mut self, task: Task) {
        let key = order_key(&task);
        let index = self.page.tasks.partition_point(|row| order_key(row) < key);
        let window_full = self.page.tasks.len() >= self.limit;
        if window_full && index >= self.page.tasks.len() {
            // Older than every row shown: it belongs to a later page.
            return;
        }
        self.page.tasks.insert(index, task);
        if self.page.tasks.len() > self.limit {
            self.page.tasks.pop();
        }
    }

    /// Moves the counts for a transition `before -> after`.
    fn count(&mut self, before: Option<TaskStatus>, after: TaskStatus) {
        let counts = &mut self.page.counts;
        match before {
            Some(TaskStatus::Queued) => counts.queued = counts.queued.saturating_sub(1),
            Some(TaskStatus::Running) => counts.running = counts.running.saturating_sub(1),
            _ => {}
        }
        match after {
            TaskStatus::Queued => counts.queued += 1,
            TaskStatus::Running => counts.running += 1,
            _ => {}
        }
    }
}

/// The status a task not in the window had before this event, from what
/// the lifecycle allows: a `queued` event is a creation; a `running` event
/// without progress is the pick-up and with progress a progress report; a
/// terminal task ran if an Audit Service had picked it up.
fn previous_status(task: &Task) -> Option<TaskStatus> {
    match task.status {
        TaskStatus::Queued => None,
        TaskStatus::Running if task.progress.is_none() => Some(TaskStatus::Queued),
        TaskStatus::Running => Some(TaskStatus::Running),
        _ if task.running_since.is_some() => Some(TaskStatus::Running),
        _ => Some(TaskStatus::Queued),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use site_api::{Initiator, Progress, StatusCounts, Target, TargetType, TaskId, TaskKind};

    fn at(second: i64) -> site_api::Timestamp {
        chrono::DateTime::from_timestamp(1_764_000_000 + second, 0).unwrap()
    }

    fn task(number: u64, second: i64, status: TaskStatus) -> Task {
        let id = TaskId::new(TaskKind::Scan, number);
        Task {
            id,
            kind: TaskKind::Scan,
            number,
            label: id.label(),
            target: Target {
                target_type: TargetType::Device,
                name: format!("WS-{number}"),
            },
            start_date: at(second),
            scope: "HQ".to_owned(),
            initiator: Initiator::Schedule,
            schedule: None,
            status,
            audit_service: None,
            running_since: (status != TaskStatus::Queued).then(|| at(second + 1)),
            progress: None,
            end_date: status.is_terminal().then(|| at(second + 2)),
            errors: 0,
        }
    }

    fn list(tasks: Vec<Task>, queued: u64, running: u64, limit: usize) -> LiveList {
        LiveList::new(
            ActiveTasksPage {
                tasks,
                next_cursor: None,
                total: queued + running,
                counts: StatusCounts { queued, running },
                revision: 10,
            },
            limit,
        )
    }

    fn numbers(list: &LiveList) -> Vec<u64> {
        list.page().tasks.iter().map(|t| t.number).collect()
    }

    #[test]
    fn new_tasks_go_on_top_and_counts_follow_every_transition() {
        let mut live = list(vec![task(1, 0, TaskStatus::Queued)], 1, 0, 10);
        assert_eq!(
            live.apply(Some(11), task(2, 5, TaskStatus::Queued)),
            Applied::Changed
        );
        assert_eq!(numbers(&live), [2, 1]);
        live.apply(Some(12), task(1, 0, TaskStatus::Running));
        assert_eq!(
            live.page().counts,
            StatusCounts {
                queued: 1,
                running: 1
            }
        );
        live.apply(Some(13), task(1, 0, TaskStatus::Failed));
        assert_eq!(numbers(&live), [2]);
        assert_eq!(
            live.page().counts,
            StatusCounts {
                queued: 1,
                running: 0
            }
        );
        assert_eq!((live.page().total, live.revision()), (1, 13));
    }

    #[test]
    fn replayed_events_change_nothing() {
        let mut live = list(vec![task(1, 0, TaskStatus::Queued)], 1, 0, 10);
        live.apply(Some(11), task(2, 5, TaskStatus::Queued));
        let before = live.clone();
        assert_eq!(
            live.apply(Some(11), task(2, 5, TaskStatus::Queued)),
            Applied::Stale
        );
        assert_eq!(
            live.apply(Some(3), task(1, 0, TaskStatus::Running)),
            Applied::Stale
        );
        assert_eq!(live, before);
    }

    #[test]
    fn tasks_outside_the_window_still_move_the_counts() {
        // 5 shown of 8 queued; the others are older.
        let shown = (4..=8)
            .rev()
            .map(|n| task(n, n as i64, TaskStatus::Queued))
            .collect();
        let mut live = list(shown, 8, 0, 5);
        // scan-1 (not shown) is picked up, reports progress, then finishes.
        live.apply(Some(11), task(1, 1, TaskStatus::Running));
        let mut progressed = task(1, 1, TaskStatus::Running);
        progressed.progress = Some(Progress { done: 1, total: 4 });
        live.apply(Some(12), progressed);
        assert_eq!(
            live.page().counts,
            StatusCounts {
                queued: 7,
                running: 1
            }
        );
        live.apply(Some(13), task(1, 1, TaskStatus::Finished));
        // scan-2 (not shown) is cancelled while queued.
        let mut cancelled = task(2, 2, TaskStatus::Cancelled);
        cancelled.running_since = None;
        live.apply(Some(14), cancelled);
        assert_eq!(
            live.page().counts,
            StatusCounts {
                queued: 6,
                running: 0
            }
        );
        assert_eq!(numbers(&live), [8, 7, 6, 5, 4], "the window is unchanged");
    }

    #[test]
    fn the_window_keeps_its_size_and_asks_for_a_refetch_when_it_empties() {
        let shown = (1..=4)
            .rev()
            .map(|n| task(n, n as i64, TaskStatus::Queued))
            .collect();
        let mut live = list(shown, 10, 0, 4);
        live.apply(Some(11), task(11, 20, TaskStatus::Queued));
        assert_eq!(numbers(&live), [11, 4, 3, 2], "the oldest row drops off");
        assert!(!live.needs_refetch());
        live.apply(Some(12), task(11, 20, TaskStatus::Cancelled));
        live.apply(Some(13), task(4, 4, TaskStatus::Cancelled));
        live.apply(Some(14), task(3, 3, TaskStatus::Cancelled));
        assert_eq!(numbers(&live), [2]);
        assert!(live.needs_refetch(), "1 row shown of {}", live.page().total);
    }
}
