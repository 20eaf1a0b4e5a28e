//! Which task endings deserve a notification, exactly once per task.
//!
//! A task counts as failed when its status is `failed`, or when it is
//! terminal with at least one error (Sites whose `failed_label` is
//! `finished` report failures that way). Pure logic: the caller shows what
//! [`FailureWatch::on_task`] returns.

use std::collections::{HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use site_api::{Task, TaskId, TaskStatus};

/// How many notified tasks are remembered (per Site), oldest forgotten first.
const REMEMBERED: usize = 10_000;

pub use taskdeck_ipc::NotifySettings;

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureNotice {
    /// The Site.
    pub site_id: String,
    /// The task.
    pub task: TaskId,
    /// E.g. "Scan #1042 failed".
    pub title: String,
    /// The target, and the first error message when known.
    pub body: String,
}

/// Remembers which failed tasks were announced on one Site.
#[derive(Debug, Default)]
pub struct FailureWatch {
    notified: HashSet<TaskId>,
    order: VecDeque<TaskId>,
    running_long: HashSet<TaskId>,
}

impl FailureWatch {
    /// The notice for `task`, if it just failed and was not announced yet.
    /// `me` is the user's email; `first_error` the first error message, if known.
    pub fn on_task(
        &mut self,
        site_id: &str,
        task: &Task,
        me: &str,
        first_error: Option<&str>,
        settings: &NotifySettings,
    ) -> Option<FailureNotice> {
        if !settings.announces(site_id) || !task.is_effectively_failed() {
            return None;
        }
        if settings.only_mine && task.initiator.as_str() != me {
            return None;
        }
        if !self.remember(task.id) {
            return None;
        }
        let outcome = match task.status {
            TaskStatus::Failed => "failed".to_owned(),
            _ => format!(
                "ended with {} error{}",
                task.errors,
                if task.errors == 1 { "" } else { "s" }
            ),
        };
        let mut body = format!("{} · {}", task.target.name, task.scope);
        if let Some(message) = first_error {
            body.push_str(": ");
            body.push_str(message);
        }
        Some(FailureNotice {
            site_id: site_id.to_owned(),
            task: task.id,
            title: format!("{} {outcome}", task.label),
            body,
        })
    }

    /// The notice for a `task_running_long` signal, if the user wants those
    /// and this task was not announced as running long yet.
    pub fn on_signal(
        &mut self,
        site_id: &str,
        signal: &site_api::Signal,
        settings: &NotifySettings,
    ) -> Option<FailureNotice> {
        let site_api::Signal::TaskRunningLong { task, message, .. } = signal else {
            return None;
        };
        if !settings.running_long || !settings.announces(site_id) {
            return None;
        }
        if !self.running_long.insert(*task) {
            return None;
        }
        Some(FailureNotice {
            site_id: site_id.to_owned(),
            task: *task,
            title: format!("{} is running long", task.label()),
            body: message.clone(),
        })
    }

    /// Records `id`; false if it was already there.
    fn remember(&mut self, id: TaskId) -> bool {
        if !self.notified.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED {
            if let Some(oldest) = self.order.pop_front() {
                self.notified.remove(&oldest);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use site_api::{Initiator, Target, TargetType, TaskKind};

    fn ended(number: u64, status: TaskStatus, errors: u64, initiator: &str) -> Task {
        let id = TaskId::new(TaskKind::Scan, number);
        let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        Task {
            id,
            kind: TaskKind::Scan,
            number,
            label: id.label(),
            target: Target {
                target_type: TargetType::Device,
                name: "WS-0042".to_owned(),
            },
            start_date: now,
            scope: "Segment HQ".to_owned(),
            initiator: Initiator::from(initiator),
            schedule: None,
            status,
            audit_service: None,
            running_since: Some(now),
            progress: None,
            end_date: status.is_terminal().then_some(now),
            errors,
        }
    }

    #[test]
    fn a_failure_is_announced_once_with_its_target_and_first_error() {
        let mut watch = FailureWatch::default();
        let settings = NotifySettings::default();
        let task = ended(1042, TaskStatus::Failed, 1, "Schedule");
        let notice = watch
            .on_task("hq", &task, "me@x", Some("connection refused"), &settings)
            .unwrap();
        assert_eq!(notice.title, "Scan #1042 failed");
        assert_eq!(notice.body, "WS-0042 · Segment HQ: connection refused");
        assert_eq!(
            watch.on_task("hq", &task, "me@x", None, &settings),
            None,
            "a replay is not announced again"
        );
    }

    #[test]
    fn finished_with_errors_counts_as_failed_and_clean_endings_do_not() {
        let mut watch = FailureWatch::default();
        let settings = NotifySettings::default();
        let labelled_finished = ended(1, TaskStatus::Finished, 2, "Schedule");
        let notice = watch
            .on_task("hq", &labelled_finished, "me@x", None, &settings)
            .unwrap();
        assert_eq!(notice.title, "Scan #1 ended with 2 errors");
        for quiet in [
            ended(2, TaskStatus::Finished, 0, "Schedule"),
            ended(3, TaskStatus::Cancelled, 0, "Schedule"),
            ended(4, TaskStatus::Running, 0, "Schedule"),
        ] {
            assert_eq!(watch.on_task("hq", &quiet, "me@x", None, &settings), None);
        }
    }

    #[test]
    fn muted_sites_stay_quiet_and_running_long_is_announced_once_when_wanted() {
        let mut watch = FailureWatch::default();
        let muted = NotifySettings {
            muted_sites: vec!["lab".to_owned()],
            running_long: true,
            ..NotifySettings::default()
        };
        let failed = ended(7, TaskStatus::Failed, 1, "Schedule");
        assert_eq!(watch.on_task("lab", &failed, "me@x", None, &muted), None);
        assert!(watch.on_task("hq", &failed, "me@x", None, &muted).is_some());
        let signal = site_api::Signal::TaskRunningLong {
            task: TaskId::new(TaskKind::Audit, 3),
            running_since: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
            message: "Audit #3 has been running for 2.5 hours".to_owned(),
        };
        let notice = watch.on_signal("hq", &signal, &muted).unwrap();
        assert_eq!(notice.title, "Audit #3 is running long");
        assert_eq!(watch.on_signal("hq", &signal, &muted), None, "once");
        let mut fresh = FailureWatch::default();
        let default = NotifySettings::default();
        assert_eq!(
            fresh.on_signal("hq", &signal, &default),
            None,
            "off by default"
        );
    }

    #[test]
    fn settings_turn_notifications_off_or_to_my_tasks_only() {
        let mut watch = FailureWatch::default();
        let off = NotifySettings {
            enabled: false,
            ..NotifySettings::default()
        };
        let mine_only = NotifySettings {
            only_mine: true,
            ..NotifySettings::default()
        };
        let theirs = ended(1, TaskStatus::Failed, 1, "bob@x");
        let mine = ended(2, TaskStatus::Failed, 1, "me@x");
        assert_eq!(watch.on_task("hq", &mine, "me@x", None, &off), None);
        assert_eq!(watch.on_task("hq", &theirs, "me@x", None, &mine_only), None);
        assert!(watch
            .on_task("hq", &mine, "me@x", None, &mine_only)
            .is_some());
    }
}
