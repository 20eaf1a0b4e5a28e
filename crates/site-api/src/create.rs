//! Triggering an ad-hoc scan or audit.

use serde::{Deserialize, Serialize};

use crate::{Target, Task, TaskKind};

/// `POST /api/v1/sites/{site}/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTaskRequest {
    /// Scan or audit.
    pub kind: TaskKind,
    /// What to act on.
    pub target: Target,
    /// The Segment or device set covered.
    pub scope: String,
    /// Demo and test servers only: how the simulated Audit Service runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulate: Option<SimulateSpec>,
}

impl CreateTaskRequest {
    /// A new task that runs `task` again: the same kind, target and scope
    /// (the Site makes the caller its initiator).
    pub fn again(task: &Task) -> CreateTaskRequest {
        CreateTaskRequest {
            kind: task.kind,
            target: task.target.clone(),
            scope: task.scope.clone(),
            simulate: None,
        }
    }
}

/// How a simulated Audit Service runs a task (demo and test mode only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SimulateSpec {
    /// How long it runs once picked up.
    pub duration_ms: u64,
    /// How it ends.
    pub outcome: SimulatedOutcome,
    /// Errors it reports (a failed outcome reports at least one).
    #[serde(default)]
    pub errors: u64,
}

/// How a simulated task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SimulatedOutcome {
    /// Completes.
    Finished,
    /// Errors out.
    Failed,
    /// Never ends by itself (until cancelled).
    Hang,
}

/// The most tasks one batch may create.
pub const MAX_CREATE_BATCH: usize = 500;

/// `POST /api/v1/sites/{site}/tasks/batch` (1.1): 1..500 tasks, created all
/// or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTasksRequest {
    /// The tasks, numbered in this order.
    pub tasks: Vec<CreateTaskRequest>,
}

/// The answer to a batch: the new tasks, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTasksResponse {
    /// One per requested task, in request order.
    pub tasks: Vec<Task>,
}
