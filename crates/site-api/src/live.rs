//! The live event stream (`GET …/events`): event names and their data.

use crate::{AuditService, Signal, Task};

/// One event of a Site's stream, as its `event:` name and `data:` say.
#[derive(Debug, Clone, PartialEq, Eq)]
// Task events are nearly all of them; boxing would allocate for each.
#[allow(clippy::large_enum_variant)]
pub enum LiveEvent {
    /// A task changed (created, picked up, progress, terminal).
    Task(Task),
    /// An Audit Service's slots or state changed.
    AuditService(AuditService),
    /// A signal came into force.
    Signal(Signal),
    /// The client's `Last-Event-ID` is too old to replay: refetch the list.
    Reset,
}

/// Why an event could not be read.
#[derive(Debug)]
pub enum LiveEventError {
    /// An event name the contract does not name.
    UnknownEvent(String),
    /// The data is not the JSON the event name promises.
    BadData {
        /// The event's name.
        event: String,
        /// What serde said.
        error: serde_json::Error,
    },
}

impl std::fmt::Display for LiveEventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveEventError::UnknownEvent(name) => write!(f, "unknown event {name:?}"),
            LiveEventError::BadData { event, error } => {
                write!(f, "the data of a {event:?} event is not valid: {error}")
            }
        }
    }
}

impl std::error::Error for LiveEventError {}

impl LiveEvent {
    /// The `event:` name of a task change.
    pub const TASK: &'static str = "task";
    /// The `event:` name of an Audit Service change.
    pub const AUDIT_SERVICE: &'static str = "audit_service";
    /// The `event:` name of a new signal.
    pub const SIGNAL: &'static str = "signal";
    /// The `event:` name of a reset.
    pub const RESET: &'static str = "reset";

    /// Reads an event from its name and data.
    pub fn parse(event: &str, data: &str) -> Result<LiveEvent, LiveEventError> {
        let bad = |error| LiveEventError::BadData {
            event: event.to_owned(),
            error,
        };
        match event {
            LiveEvent::TASK => serde_json::from_str(data).map(LiveEvent::Task).map_err(bad),
            LiveEvent::AUDIT_SERVICE => serde_json::from_str(data)
                .map(LiveEvent::AuditService)
                .map_err(bad),
            LiveEvent::SIGNAL => serde_json::from_str(data)
                .map(LiveEvent::Signal)
                .map_err(bad),
            LiveEvent::RESET => Ok(LiveEvent::Reset),
            other => Err(LiveEventError::UnknownEvent(other.to_owned())),
        }
    }
}
