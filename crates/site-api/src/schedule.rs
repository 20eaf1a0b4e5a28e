//! Scan and Audit schedules.

use serde::{Deserialize, Serialize};

use crate::{Target, TaskKind, Timestamp};

/// A schedule that emits tasks with Initiator `Schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_run: Option<Timestamp>,
}

/// `GET …/schedules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchedulesResponse {
    /// Every schedule of the Site.
    pub schedules: Vec<Schedule>,
}

/// A new schedule (`POST …/schedules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleCreate {
    /// Display name.
    pub name: String,
    /// Scan or audit.
    pub kind: TaskKind,
    /// Five-field cron, UTC.
    pub cron: String,
    /// What each firing acts on.
    pub target: Target,
    /// The scope of each firing.
    pub scope: String,
    /// Whether it fires (default: yes).
    #[serde(default = "enabled_by_default")]
    #[cfg_attr(feature = "openapi", schema(default = true))]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// `PATCH …/schedules/{id}`: only the fields sent change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleUpdate {
    /// A new display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TaskKind>,
    /// A new five-field cron expression, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// A new target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// A new scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Enable (`true`) or disable (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}
