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
