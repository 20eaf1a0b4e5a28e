//! Audit Services: the slot pools that run tasks.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// An Audit Service as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditService {
    /// Its id, e.g. `as-1`.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// How many tasks it runs at once.
    pub slots: u32,
    /// How many slots are busy now.
    pub busy: u32,
    /// Whether it is answering.
    pub state: AuditServiceState,
    /// Its last sign of life.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_heartbeat: Option<Timestamp>,
    /// (1.1) How it runs tasks. A 1.0 server sends none: then it reads as `simulated`.
    #[serde(default)]
    pub runner: RunnerKind,
    /// (1.1) For a remote service, the agent's IP address as the server
    /// sees it; null until an agent has connected.
    #[serde(default)]
    pub address: Option<String>,
    /// (1.1) For a remote service, the agent's version; null until an agent has connected.
    #[serde(default)]
    pub version: Option<String>,
}

/// How an Audit Service runs its tasks (1.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunnerKind {
    /// Simulated inside the server (demo and test Sites).
    #[default]
    Simulated,
    /// A program run by the server for each task.
    Command,
    /// A `taskdeck-audit-service` agent on its own host.
    Remote,
}

impl RunnerKind {
    /// The wire name, e.g. `remote`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Simulated => "simulated",
            RunnerKind::Command => "command",
            RunnerKind::Remote => "remote",
        }
    }
}

/// Whether an Audit Service is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditServiceState {
    /// Taking tasks.
    Online,
    /// Not answering.
    Offline,
}

/// `GET …/audit-services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditServicesResponse {
    /// Every Audit Service of the Site.
    pub audit_services: Vec<AuditService>,
}
