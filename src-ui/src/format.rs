//! How values read on screen: pure functions, tested natively.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use site_api::{Initiator, TargetType, Task, TaskStatus};
use taskdeck_ipc::StartedFilter;

/// The CSS class of a status chip.
pub fn status_class(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "chip chip-queued",
        TaskStatus::Running => "chip chip-running",
        TaskStatus::Finished => "chip chip-finished",
        TaskStatus::Cancelled => "chip chip-cancelled",
        TaskStatus::Failed => "chip chip-failed",
    }
}

/// The label of a task's status as an admin should read it: a terminal
/// task with errors is a failure whatever the Site labels it.
pub fn status_label(task: &Task) -> &'static str {
    if task.is_effectively_failed() {
        TaskStatus::Failed.label()
    } else {
        task.status.label()
    }
}

/// The live link as the status bar shows it: a class and a text.
/// `offset` is the viewer's time zone, for "offline since HH:MM".
pub fn link_text(
    state: taskdeck_ipc::LinkState,
    offset: chrono::FixedOffset,
) -> (&'static str, String) {
    use taskdeck_ipc::LinkState;
    match state {
        LinkState::Connecting => ("connecting", "Connecting…".to_owned()),
        LinkState::Live => ("live", "Live".to_owned()),
        LinkState::Polling => ("polling", "Updating every 5 s (no live stream)".to_owned()),
        LinkState::Reconnecting { since } => (
            "reconnecting",
            format!(
                "Reconnecting · offline since {}",
                since.with_timezone(&offset).format("%H:%M")
            ),
        ),
    }
}

/// One task's cancel outcome as a sentence.
pub fn cancel_outcome_text(
    task: site_api::TaskId,
    outcome: site_api::CancelOutcome,
    status: Option<TaskStatus>,
) -> String {
    match (outcome, status) {
        (site_api::CancelOutcome::Cancelled, _) => format!("{}: cancelled", task.label()),
        (site_api::CancelOutcome::AlreadyTerminal, Some(status)) => {
            format!("{}: had already ended as {}", task.label(), status.label())
        }
        (site_api::CancelOutcome::AlreadyTerminal, None) => {
            format!("{}: had already ended", task.label())
        }
        (site_api::CancelOutcome::NotFound, _) => {
            format!("{}: not found on this Site", task.label())
        }
    }
}

/// The Initiator column: the email, or `Schedule · <name>`.
pub fn initiator_text(task: &Task) -> String {
    match (&task.initiator, &task.schedule) {
        (Initiator::Schedule, Some(schedule)) => format!("Schedule · {}", schedule.name),
        (initiator, _) => initiator.as_str().to_owned(),
    }
}

/// The start date in the viewer's time zone: the time alone for today,
/// else the date and time.
pub fn start_date_text(start: DateTime<Utc>, offset: FixedOffset, today: NaiveDate) -> String {
    let local = start.with_timezone(&offset);
    if local.date_naive() == today {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// The full local date and time, for the tooltip.
pub fn start_date_title(start: DateTime<Utc>, offset: FixedOffset) -> String {
    start
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// A short age: `just now`, `5 s ago`, `3 min ago`, `2 h 5 min ago`, `3 d ago`.
pub fn age_text(age: Duration) -> String {
    if age.num_seconds() < 2 {
        return "just now".to_owned();
    }
    format!("{} ago", duration_text(age))
}

/// A short duration: `5 s`, `3 min`, `2 h 5 min`, `3 d 4 h`.
pub fn duration_text(duration: Duration) -> String {
    match duration.num_seconds().max(0) {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => match (s / 3600, (s % 3600) / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        s => match (s / 86_400, (s % 86_400) / 3600) {
            (d, 0) => format!("{d} d"),
            (d, h) => format!("{d} d {h} h"),
        },
    }
}

/// How far a running task has come, in whole percent, if it says.
pub fn progress_percent(task: &Task) -> Option<u64> {
    task.progress
        .filter(|p| p.total > 0)
        .map(|p| (p.done.min(p.total) * 100) / p.total)
}

/// The name read by screen readers for a target type's icon.
pub fn target_type_name(target_type: TargetType) -> &'static str {
    target_type.title()
}

/// The start-date ranges the Filter panel offers, as (choice, filter).
pub const STARTED_PRESETS: [(&str, StartedFilter); 5] = [
    ("within-1", StartedFilter::Within { hours: 1 }),
    ("within-24", StartedFilter::Within { hours: 24 }),
    ("within-168", StartedFilter::Within { hours: 168 }),
    ("older-1", StartedFilter::OlderThan { hours: 1 }),
    ("older-24", StartedFilter::OlderThan { hours: 24 }),
];

/// A number of hours as people say it: `hour`, `24 hours`, `7 days`.
fn hours_text(hours: u32) -> String {
    match hours {
        1 => "hour".to_owned(),
        h if h >= 48 && h % 24 == 0 => format!("{} days", h / 24),
        h => format!("{h} hours"),
    }
}

/// A start-date range for its chip and menu: `in the last 24 hours`,
/// `more than 1 hour ago`, `from 2026-11-28 09:00`, `09:00 to 10:00`…
/// (ends shown in the viewer's time zone).
pub fn started_text(filter: StartedFilter, offset: FixedOffset) -> String {
    let at = |t: DateTime<Utc>| {
        t.with_timezone(&offset)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    match filter {
        StartedFilter::Within { hours } => format!("in the last {}", hours_text(hours)),
        StartedFilter::OlderThan { hours: 1 } => "more than an hour ago".to_owned(),
        StartedFilter::OlderThan { hours } => format!("more than {} ago", hours_text(hours)),
        StartedFilter::Between {
            from: Some(from),
            to: Some(to),
        } => format!("{} to {}", at(from), at(to)),
        StartedFilter::Between {
            from: Some(from),
            to: None,
        } => format!("from {}", at(from)),
        StartedFilter::Between {
            from: None,
            to: Some(to),
        } => format!("before {}", at(to)),
        StartedFilter::Between {
            from: None,
            to: None,
        } => "at any time".to_owned(),
    }
}

/// The value of a `datetime-local` field showing `at` in the viewer's time
/// zone (`2026-11-28T10:14`).
pub fn datetime_local_value(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The time a `datetime-local` field holds (in the viewer's time zone);
/// `None` when it is empty or not a time.
pub fn parse_datetime_local(value: &str, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let value = value.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    naive
        .and_local_timezone(offset)
        .single()
        .map(|local| local.with_timezone(&Utc))
}

/// A task's states so far, oldest first: queued, running (and where), and
/// how it ended.
pub fn timeline(task: &Task) -> Vec<(String, DateTime<Utc>)> {
    let mut steps = vec![("Queued".to_owned(), task.start_date)];
    if let Some(since) = task.running_since {
        let on = task
            .audit_service
            .as_ref()
            .map(|service| format!("Running on {}", service.name))
            .unwrap_or_else(|| "Running".to_owned());
        steps.push((on, since));
    }
    if let Some(end) = task.end_date {
        let errors = match task.errors {
            0 => String::new(),
            1 => " with 1 error".to_owned(),
            n => format!(" with {n} errors"),
        };
        steps.push((format!("{}{errors}", status_label(task)), end));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_date_ranges_read_as_sentences_in_local_time() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        let texts: Vec<String> = STARTED_PRESETS
            .iter()
            .map(|(_, filter)| started_text(*filter, paris))
            .collect();
        assert_eq!(
            texts,
            [
                "in the last hour",
                "in the last 24 hours",
                "in the last 7 days",
                "more than an hour ago",
                "more than 24 hours ago"
            ]
        );
        let between = StartedFilter::Between {
            from: Some(at("2026-11-28T08:00:00Z")),
            to: Some(at("2026-11-28T09:30:00Z")),
        };
        assert_eq!(
            started_text(between, paris),
            "2026-11-28 09:00 to 2026-11-28 10:30"
        );
        let open = StartedFilter::Between {
            from: None,
            to: Some(at("2026-11-28T09:30:00Z")),
        };
        assert_eq!(started_text(open, paris), "before 2026-11-28 10:30");
    }

    #[test]
    fn datetime_local_fields_read_and_write_the_viewers_time() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-28T08:14:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let value = datetime_local_value(at, paris);
        assert_eq!(value, "2026-11-28T09:14");
        assert_eq!(parse_datetime_local(&value, paris), Some(at));
        assert_eq!(parse_datetime_local("2026-11-28T09:14:00", paris), Some(at));
        assert_eq!(parse_datetime_local("", paris), None);
        assert_eq!(parse_datetime_local("yesterday", paris), None);
    }

    #[test]
    fn the_link_reads_live_polling_or_offline_since() {
        use taskdeck_ipc::LinkState;
        let paris = chrono::FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            link_text(LinkState::Live, paris),
            ("live", "Live".to_owned())
        );
        let since = chrono::DateTime::parse_from_rfc3339("2026-11-29T09:05:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            link_text(LinkState::Reconnecting { since }, paris),
            (
                "reconnecting",
                "Reconnecting · offline since 10:05".to_owned()
            )
        );
        assert_eq!(link_text(LinkState::Polling, paris).0, "polling");
    }

    #[test]
    fn cancel_outcomes_read_as_sentences() {
        use site_api::{CancelOutcome, TaskId, TaskKind};
        let task = TaskId::new(TaskKind::Scan, 12);
        assert_eq!(
            cancel_outcome_text(task, CancelOutcome::Cancelled, Some(TaskStatus::Cancelled)),
            "Scan #12: cancelled"
        );
        assert_eq!(
            cancel_outcome_text(
                task,
                CancelOutcome::AlreadyTerminal,
                Some(TaskStatus::Finished)
            ),
            "Scan #12: had already ended as Finished"
        );
        assert_eq!(
            cancel_outcome_text(task, CancelOutcome::NotFound, None),
            "Scan #12: not found on this Site"
        );
    }
    use site_api::{ObjectRef, Target, TaskId, TaskKind};

    fn task(status: TaskStatus, errors: u64) -> Task {
        let id = TaskId::new(TaskKind::Scan, 3);
        Task {
            id,
            kind: id.kind,
            number: id.number,
            label: id.label(),
            target: Target {
                target_type: TargetType::Device,
                name: "WS-1".into(),
            },
            start_date: "2026-11-28T09:14:03Z".parse().unwrap(),
            scope: "HQ".into(),
            initiator: Initiator::Schedule,
            schedule: Some(ObjectRef {
                id: "sch-1".into(),
                name: "Hourly LAN scan".into(),
            }),
            status,
            audit_service: None,
            running_since: None,
            progress: None,
            end_date: None,
            errors,
        }
    }

    #[test]
    fn a_finished_task_with_errors_reads_failed() {
        assert_eq!(status_label(&task(TaskStatus::Finished, 2)), "Failed");
        assert_eq!(status_label(&task(TaskStatus::Finished, 0)), "Finished");
        assert_eq!(status_label(&task(TaskStatus::Running, 1)), "Running");
        assert_eq!(status_label(&task(TaskStatus::Queued, 0)), "Queued");
    }

    #[test]
    fn schedules_show_their_name() {
        assert_eq!(
            initiator_text(&task(TaskStatus::Queued, 0)),
            "Schedule · Hourly LAN scan"
        );
        let mut by_user = task(TaskStatus::Queued, 0);
        by_user.initiator = Initiator::User("alice@example.com".into());
        by_user.schedule = None;
        assert_eq!(initiator_text(&by_user), "alice@example.com");
    }

    #[test]
    fn start_dates_read_in_local_time() {
        let start: DateTime<Utc> = "2026-11-28T23:30:00Z".parse().unwrap();
        let cet = FixedOffset::east_opt(3600).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(start_date_text(start, cet, today), "00:30:00");
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(start_date_text(start, utc, today), "2026-11-28 23:30");
        assert_eq!(start_date_title(start, cet), "2026-11-29 00:30:00 +01:00");
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(age_text(Duration::seconds(0)), "just now");
        assert_eq!(age_text(Duration::seconds(42)), "42 s ago");
        assert_eq!(age_text(Duration::seconds(185)), "3 min ago");
        assert_eq!(age_text(Duration::seconds(7200)), "2 h ago");
        assert_eq!(age_text(Duration::seconds(7500)), "2 h 5 min ago");
        assert_eq!(age_text(Duration::days(3)), "3 d ago");
        assert_eq!(duration_text(Duration::seconds(-5)), "0 s");
        assert_eq!(duration_text(Duration::seconds(3 * 3600 + 60)), "3 h 1 min");
        assert_eq!(duration_text(Duration::hours(50)), "2 d 2 h");
    }

    #[test]
    fn a_timeline_lists_the_states_reached() {
        let mut task: Task = serde_json::from_value(serde_json::json!({
            "id": "scan-7", "kind": "scan", "number": 7, "label": "Scan #7",
            "target": {"type": "device", "name": "WS-0042"},
            "start_date": "2026-11-28T09:00:00Z", "scope": "HQ",
            "initiator": "Schedule", "schedule": {"id": "s1", "name": "Hourly"},
            "status": "queued", "audit_service": null, "running_since": null,
            "progress": null, "end_date": null, "errors": 0
        }))
        .unwrap();
        assert_eq!(timeline(&task).len(), 1);
        task.status = TaskStatus::Finished;
        task.running_since = Some("2026-11-28T09:01:00Z".parse().unwrap());
        task.audit_service = Some(site_api::ObjectRef {
            id: "as-1".into(),
            name: "AS-1".into(),
        });
        task.end_date = Some("2026-11-28T09:05:00Z".parse().unwrap());
        task.errors = 2;
        let steps: Vec<String> = timeline(&task).into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, ["Queued", "Running on AS-1", "Failed with 2 errors"]);
    }
}
