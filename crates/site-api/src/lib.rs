//! Wire types of the Site task API contract (`site-task-api.md`, version 1).
//!
//! This crate is the one place where the contract's JSON shapes live. The
//! reference Site server, the desktop backend and the WebAssembly UI all use
//! these types, so a field renamed here is renamed everywhere at once.
//!
//! **Architecture invariant:** this crate knows serde and nothing else of the
//! stack: no axum, sqlx, tauri or leptos. It compiles for the host and for
//! `wasm32-unknown-unknown`.
//!
//! Enums reject values the contract does not name: an unknown status, kind or
//! target type fails to deserialize instead of becoming a catch-all variant.

#![deny(missing_docs)]

mod agent;
mod audit_service;
mod auth;
mod cancel;
mod create;
mod error;
mod health;
mod list;
mod live;
mod log;
mod query;
mod schedule;
mod signal;
mod stats;
mod task;

pub use agent::{
    AgentEnd, AgentEnded, AgentHeartbeat, AgentHeartbeatReply, AgentHello, AgentPoll,
    AgentProgress, AgentSession, AgentWork, AGENT_API_BASE,
};
pub use audit_service::{AuditService, AuditServiceState, AuditServicesResponse, RunnerKind};
pub use auth::{
    Me, RevokeRequest, SiteMembership, SiteRole, SitesResponse, TokenRequest, TokenResponse,
};
pub use cancel::{CancelOutcome, CancelRequest, CancelResponse, CancelResult, MAX_CANCEL_BATCH};
pub use create::{
    CreateTaskRequest, CreateTasksRequest, CreateTasksResponse, SimulateSpec, SimulatedOutcome,
    MAX_CREATE_BATCH,
};
pub use error::{ApiError, ErrorBody, ErrorCode, OAuthError, OAuthErrorCode};
pub use health::Health;
pub use list::{ActiveTasksPage, FacetValue, FacetsResponse, StatusCounts, MAX_FACET_VALUES};
pub use live::{LiveEvent, LiveEventError};
pub use log::{LogEntry, LogPage};
pub use query::{
    ActiveTasksQuery, FacetField, FacetsQuery, LogQuery, Order, PageLimit, QueryError, SortKey,
    TaskFilter, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, MAX_SEARCH_LEN,
};
pub use schedule::{Schedule, ScheduleCreate, ScheduleUpdate, SchedulesResponse};
pub use signal::{Signal, SignalsResponse};
pub use stats::{Stats, StatsBucket, StatsNow};
pub use task::{
    Initiator, ObjectRef, ParseTaskIdError, Progress, Target, TargetType, Task, TaskId, TaskKind,
    TaskStatus,
};

/// The base path of every versioned endpoint.
pub const API_BASE: &str = "/api/v1";

/// Times on the wire: RFC 3339 in UTC with `Z`.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
