//! Scan-log and Audit-log rows: the durable record of terminal tasks.

use serde::{Deserialize, Serialize};

use crate::Task;

/// A Scan-log or Audit-log row: the terminal Task plus what only the log keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntry {
    /// The task in its terminal state (`end_date` and `errors` set).
    #[serde(flatten)]
    pub task: Task,
    /// One message per error, oldest first.
    pub error_messages: Vec<String>,
    /// The Site Administrator who cancelled it, if one did.
    pub cancelled_by: Option<String>,
}

/// `GET …/scan-log` and `GET …/audit-log`: newest `end_date` first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogPage {
    /// The page.
    pub entries: Vec<LogEntry>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}
