//! Operational signals: a long queue, a task running for hours, an Audit Service offline.

use serde::{Deserialize, Serialize};

use crate::{ObjectRef, TaskId, Timestamp};

/// One operational signal, tagged by `kind` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The queue has stayed at or over the Site's threshold for its window.
    QueueLong {
        /// Since when the queue has been long.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        since: Timestamp,
        /// Queued tasks now.
        queued: u64,
        /// The Site's threshold.
        threshold: u64,
        /// A human sentence.
        message: String,
    },
    /// A task has been running longer than the Site's limit.
    TaskRunningLong {
        /// The task.
        task: TaskId,
        /// When it started running.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        running_since: Timestamp,
        /// A human sentence.
        message: String,
    },
    /// An Audit Service stopped answering.
    AuditServiceOffline {
        /// Which one.
        audit_service: ObjectRef,
        /// Since when.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        since: Timestamp,
        /// A human sentence.
        message: String,
    },
}

impl Signal {
    /// The `kind` on the wire: `queue_long`, `task_running_long` or
    /// `audit_service_offline`.
    pub fn kind(&self) -> &'static str {
        match self {
            Signal::QueueLong { .. } => "queue_long",
            Signal::TaskRunningLong { .. } => "task_running_long",
            Signal::AuditServiceOffline { .. } => "audit_service_offline",
        }
    }

    /// Its human sentence.
    pub fn message(&self) -> &str {
        match self {
            Signal::QueueLong { message, .. }
            | Signal::TaskRunningLong { message, .. }
            | Signal::AuditServiceOffline { message, .. } => message,
        }
    }
}

/// `GET …/signals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalsResponse {
    /// The signals in force now.
    pub signals: Vec<Signal>,
}
