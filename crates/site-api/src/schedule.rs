//! Scan and Audit schedules.

use serde::{Deserialize, Serialize};

use crate::{Target, TaskKind, Timestamp};

/// A schedule that emits tasks with Initiator `Schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Its id.
    pub id: String,
    /// Its display name (shown beside `Schedule` in the Initiator column).
    pub name: String,
    /// Scan or audit.
    pub kind: TaskKind,
    /// Five-field cron expression, UTC.
    pub cron: String,
    /// What each firing acts on.
    pub target: Target,
    /// The scope of each firing.
    pub scope: String,
    /// Whether it fires.
    pub enabled: bool,
    /// The next firing, if enabled.
    pub next_run: Option<Timestamp>,
}

/// `GET …/schedules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulesResponse {
    /// Every schedule of the Site.
    pub schedules: Vec<Schedule>,
}
