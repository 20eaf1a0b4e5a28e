//! Cancelling active tasks: the request and the per-task results.

use serde::{Deserialize, Serialize};

use crate::{TaskId, TaskStatus};

/// The most ids one cancel request may carry.
pub const MAX_CANCEL_BATCH: usize = 500;

/// `POST /api/v1/sites/{site}/active-tasks/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// The tasks to cancel (1..=500), in the order results should come back.
    pub tasks: Vec<TaskId>,
}

/// What happened to each requested task, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelResponse {
    /// One result per requested id.
    pub results: Vec<CancelResult>,
}

/// What a cancel did to one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelResult {
    /// The task the result is about, as requested.
    pub task: TaskId,
    /// Cancelled now, already terminal, or unknown.
    pub outcome: CancelOutcome,
    /// The task's status after the call; null when it was not found.
    pub status: Option<TaskStatus>,
}

/// The outcome of cancelling one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelOutcome {
    /// This call cancelled it.
    Cancelled,
    /// It had already ended (`status` says how).
    AlreadyTerminal,
    /// No such task on this Site.
    NotFound,
}
