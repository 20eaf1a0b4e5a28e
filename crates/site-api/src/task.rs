//! The Task object and its parts: kind, status, id, target and initiator.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

/// What a task does: a Scan or an Audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A discovery scan.
    Scan,
    /// An audit.
    Audit,
}

impl TaskKind {
    /// Both kinds, in the order the contract sorts them (`task` sort).
    pub const ALL: [TaskKind; 2] = [TaskKind::Scan, TaskKind::Audit];

    /// The wire name: `scan` or `audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Scan => "scan",
            TaskKind::Audit => "audit",
        }
    }

    /// The human name used in labels: `Scan` or `Audit`.
    pub fn title(self) -> &'static str {
        match self {
            TaskKind::Scan => "Scan",
            TaskKind::Audit => "Audit",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "scan" => Ok(TaskKind::Scan),
            "audit" => Ok(TaskKind::Audit),
            _ => Err(UnknownValue::new("task kind", s)),
        }
    }
}

/// Where a task is in its lifecycle.
///
/// `queued -> running -> finished | cancelled | failed`, and `queued -> cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for an Audit Service slot.
    Queued,
    /// Executing on an Audit Service.
    Running,
    /// Terminal: completed (check `errors`: some Sites label failures `finished`).
    Finished,
    /// Terminal: a Site Administrator cancelled it.
    Cancelled,
    /// Terminal: its execution errored.
    Failed,
}

impl TaskStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::Finished,
        TaskStatus::Cancelled,
        TaskStatus::Failed,
    ];

    /// The wire name, e.g. `queued`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Finished => "finished",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Failed => "failed",
        }
    }

    /// The label an admin sees, as the product shows it: `Queued`, `Running`, …
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Queued => "Queued",
            TaskStatus::Running => "Running",
            TaskStatus::Finished => "Finished",
            TaskStatus::Cancelled => "Cancelled",
            TaskStatus::Failed => "Failed",
        }
    }

    /// True if and only if the task can change no more (it has left Active tasks).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Finished | TaskStatus::Cancelled | TaskStatus::Failed
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownValue::new("task status", s))
    }
}

/// A string that names no value of one of the contract's enums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

impl UnknownValue {
    fn new(what: &'static str, value: &str) -> UnknownValue {
        UnknownValue {
            what,
            value: value.to_owned(),
        }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// A task's id: `scan-<N>` or `audit-<N>`, unique per Site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    /// The kind, the id's prefix.
    pub kind: TaskKind,
    /// The per-Site, per-kind number (1, 2, 3, …; never reused).
    pub number: u64,
}

impl TaskId {
    /// The id of task `number` of `kind`.
    pub fn new(kind: TaskKind, number: u64) -> TaskId {
        TaskId { kind, number }
    }

    /// The label an admin sees: `Scan #1042`.
    pub fn label(&self) -> String {
        format!("{} #{}", self.kind.title(), self.number)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind, self.number)
    }
}

/// Why a string is not a task id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTaskIdError(String);

impl fmt::Display for ParseTaskIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a task id (expected scan-<N> or audit-<N>)",
            self.0
        )
    }
}

impl std::error::Error for ParseTaskIdError {}

impl FromStr for TaskId {
    type Err = ParseTaskIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ParseTaskIdError(s.to_owned());
        let (kind, number) = s.split_once('-').ok_or_else(error)?;
        let kind: TaskKind = kind.parse().map_err(|_| error())?;
        // Digits only: no sign, no leading zeros, no zero.
        if number.is_empty()
            || !number.bytes().all(|b| b.is_ascii_digit())
            || number.starts_with('0')
        {
            return Err(error());
        }
        let number: u64 = number.parse().map_err(|_| error())?;
        Ok(TaskId { kind, number })
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What kind of thing a task acts on (the Device / Resource column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// A single device.
    Device,
    /// A network Segment.
    Segment,
    /// A cloud resource.
    CloudResource,
}

impl TargetType {
    /// Every target type.
    pub const ALL: [TargetType; 3] = [
        TargetType::Device,
        TargetType::Segment,
        TargetType::CloudResource,
    ];

    /// The wire name, e.g. `cloud_resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Device => "device",
            TargetType::Segment => "segment",
            TargetType::CloudResource => "cloud_resource",
        }
    }

    /// The human name, e.g. `Cloud resource`.
    pub fn title(self) -> &'static str {
        match self {
            TargetType::Device => "Device",
            TargetType::Segment => "Segment",
            TargetType::CloudResource => "Cloud resource",
        }
    }
}

impl FromStr for TargetType {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownValue::new("target type", s))
    }
}

/// The thing a task acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Target {
    /// Device, Segment or cloud resource.
    #[serde(rename = "type")]
    pub target_type: TargetType,
    /// Its name, e.g. `WS-0042`.
    pub name: String,
}

/// Who started a task: a user (by email) or a schedule.
///
/// On the wire it is one string: the email, or exactly `Schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Initiator {
    /// Emitted by a Scan or Audit schedule.
    Schedule,
    /// Triggered by the user with this email.
    User(String),
}

impl Initiator {
    /// The wire string, also what the Initiator column shows.
    pub fn as_str(&self) -> &str {
        match self {
            Initiator::Schedule => "Schedule",
            Initiator::User(email) => email,
        }
    }
}

impl fmt::Display for Initiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Initiator {
    fn from(text: &str) -> Initiator {
        match text {
            "Schedule" => Initiator::Schedule,
            email => Initiator::User(email.to_owned()),
        }
    }
}

impl Serialize for Initiator {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Initiator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() {
            return Err(serde::de::Error::custom("initiator must not be empty"));
        }
        Ok(Initiator::from(text.as_str()))
    }
}

/// A reference to another object by id and display name: a schedule, an Audit Service.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObjectRef {
    /// The object's id.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// How far a running task has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// Units done.
    pub done: u64,
    /// Units in all.
    pub total: u64,
}

/// A Scan or Audit task, active or terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    /// `scan-<N>` or `audit-<N>`.
    pub id: TaskId,
    /// Scan or audit; always `id.kind`.
    pub kind: TaskKind,
    /// Always `id.number`.
    pub number: u64,
    /// `Scan #<number>` or `Audit #<number>`.
    pub label: String,
    /// What it acts on.
    pub target: Target,
    /// When it entered the queue.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start_date: Timestamp,
    /// The Segment or device set covered.
    pub scope: String,
    /// Who started it.
    pub initiator: Initiator,
    /// The schedule that emitted it, if `initiator` is `Schedule`.
    pub schedule: Option<ObjectRef>,
    /// Where it is in its lifecycle.
    pub status: TaskStatus,
    /// The Audit Service that picked it up, once one did.
    pub audit_service: Option<ObjectRef>,
    /// When an Audit Service picked it up.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub running_since: Option<Timestamp>,
    /// Progress, while known.
    pub progress: Option<Progress>,
    /// When it reached a terminal state.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub end_date: Option<Timestamp>,
    /// Errors so far (0 while queued; >= 1 for a failed task).
    pub errors: u64,
}

impl Task {
    /// True if and only if an admin should read this task as failed: status
    /// `failed`, or terminal with at least one error (Sites whose
    /// `failed_label` is `finished` report failures that way).
    pub fn is_effectively_failed(&self) -> bool {
        self.status == TaskStatus::Failed || (self.status.is_terminal() && self.errors > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_id_round_trips_through_text() {
        let id: TaskId = "scan-1042".parse().unwrap();
        assert_eq!(id, TaskId::new(TaskKind::Scan, 1042));
        assert_eq!(id.to_string(), "scan-1042");
        assert_eq!(id.label(), "Scan #1042");
        assert_eq!("audit-7".parse::<TaskId>().unwrap().label(), "Audit #7");
    }

    #[test]
    fn task_id_rejects_malformed_text() {
        for bad in [
            "",
            "scan",
            "scan-",
            "scan-0",
            "scan-007",
            "scan--1",
            "scan-+1",
            "job-1",
            "Scan-1",
            "scan-1x",
            "scan-99999999999999999999999",
        ] {
            assert!(bad.parse::<TaskId>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn initiator_distinguishes_schedule_from_emails() {
        assert_eq!(Initiator::from("Schedule"), Initiator::Schedule);
        assert_eq!(
            Initiator::from("alice@example.com"),
            Initiator::User("alice@example.com".into())
        );
        // Only the exact word is a schedule.
        assert_eq!(
            Initiator::from("schedule"),
            Initiator::User("schedule".into())
        );
    }

    #[test]
    fn statuses_parse_only_contract_names() {
        for status in TaskStatus::ALL {
            assert_eq!(status.as_str().parse::<TaskStatus>().unwrap(), status);
        }
        assert!("paused".parse::<TaskStatus>().is_err());
        assert!("Queued".parse::<TaskStatus>().is_err());
        assert!(!TaskStatus::Running.is_terminal());
        assert!(TaskStatus::Cancelled.is_terminal());
    }
}

/// Schemas for the types with a hand-written wire form (both are one string).
#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};

    use super::{Initiator, TaskId};

    impl PartialSchema for TaskId {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some("^(scan|audit)-[1-9][0-9]*$"))
                .description(Some(
                    "A task's id: its kind and its per-Site, per-kind number.",
                ))
                .examples([serde_json::json!("scan-1042")])
                .into()
        }
    }

    impl ToSchema for TaskId {}

    impl PartialSchema for Initiator {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .description(Some(
                    "Who started the task: the user's email, or exactly `Schedule`.",
                ))
                .examples([
                    serde_json::json!("admin@example.com"),
                    serde_json::json!("Schedule"),
                ])
                .into()
        }
    }

    impl ToSchema for Initiator {}
}
