//! (1.1) The agent protocol: how a `taskdeck-audit-service` agent serves a
//! remote Audit Service. It is the project's own (the contract fixes only
//! how the agent is run and behaves); the server documents it in its
//! OpenAPI file under `/api/agent/v1`.
//!
//! 1. `POST …/sessions` with the agent secret as the bearer token opens a
//!    lease on the service ([`AgentHello`] → [`AgentSession`]). One lease
//!    per service at a time; a second agent is refused while it lasts.
//! 2. Every later call carries the session token, which names the lease.
//!    Heartbeats ([`AgentHeartbeat`]) renew it, on a timer of their own.
//! 3. A long poll ([`AgentPoll`] → [`AgentWork`]) is always in flight: the
//!    server answers it the moment a task is given to the lease or a task
//!    the agent runs must stop (cancelled, or no longer the lease's).
//!    The answer carries every task of the lease the agent did not list as
//!    running, so a lost answer loses no task.
//! 4. Progress and ends ([`AgentProgress`], [`AgentEnd`]) are fenced: they
//!    change a task only while it is running under the caller's lease. A
//!    lease that ran out is answered 401, and its tasks have already ended
//!    `failed` on the server.

use serde::{Deserialize, Serialize};

use crate::{Progress, Task, TaskId, TaskStatus};

/// The base path of the agent protocol.
pub const AGENT_API_BASE: &str = "/api/agent/v1";

/// `POST …/sessions`: who is asking for the lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentHello {
    /// The agent's version, shown as the service's `version`.
    pub version: String,
    /// The most tasks this agent runs at once: at most the service's slots.
    pub slots: u32,
    /// A random id the agent process picks once. A session it opens again
    /// (its answer was lost on the way) replaces its own earlier lease
    /// instead of being refused as a second agent.
    pub instance: String,
}

/// The lease granted to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSession {
    /// The bearer token of every later call; it names this lease.
    pub token: String,
    /// The lease's number: the attempt every report belongs to.
    pub lease: u64,
    /// How long the lease lasts without a heartbeat, in milliseconds.
    pub lease_ms: u64,
    /// How often to send a heartbeat, in milliseconds.
    pub heartbeat_ms: u64,
    /// The most tasks the server gives this lease at once.
    pub slots: u32,
    /// Kill a task's program after this long, in milliseconds (none: the runner's default).
    pub timeout_ms: Option<u64>,
}

/// `POST …/heartbeat`: the lease is alive, and these tasks run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentHeartbeat {
    /// The tasks whose programs the agent runs now.
    pub running: Vec<TaskId>,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentHeartbeatReply {
    /// Milliseconds until the lease runs out without another heartbeat.
    pub lease_ms: u64,
    /// Tasks of `running` that are no longer the lease's: stop their programs.
    pub stop: Vec<TaskId>,
}

/// `POST …/poll`: wait for work or for a stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentPoll {
    /// How many more tasks the agent can start now.
    pub free: u32,
    /// The tasks whose programs the agent runs now.
    pub running: Vec<TaskId>,
    /// The longest the server may wait before answering, in milliseconds
    /// (at most 30,000; none: 20,000).
    #[serde(default)]
    pub wait_ms: Option<u64>,
}

/// What the agent should do now: empty when the wait ran out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentWork {
    /// Tasks to run: every running task of the lease that the poll did not list.
    pub tasks: Vec<Task>,
    /// Tasks of the poll's `running` that must stop (cancelled, or no longer the lease's).
    pub stop: Vec<TaskId>,
}

/// `POST …/tasks/{task}/progress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentProgress {
    /// The program's last `PROGRESS` line.
    pub progress: Progress,
}

/// `POST …/tasks/{task}/end`: how the task's program ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentEnd {
    /// `finished` or `failed`.
    pub status: TaskStatus,
    /// One message per error (a failed task counts at least one).
    pub error_messages: Vec<String>,
    /// How many queued tasks to take on the slot this frees, in the same
    /// call (0 or 1): a busy agent moves on without waiting for a poll.
    #[serde(default)]
    pub take: u32,
}

/// The answer to an end report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentEnded {
    /// The task as it ended.
    pub task: Task,
    /// The tasks taken on the freed slot (at most `take`): run them.
    pub next: Vec<Task>,
}
