//! The Active tasks list: its query and its response.

use serde::{Deserialize, Serialize};

use crate::Task;

/// The page size when a request names none.
pub const DEFAULT_PAGE_LIMIT: u32 = 200;
/// The largest page a client may ask for.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// The filters, sort and page of an Active tasks request, as the contract
/// names its query parameters (`GET …/active-tasks`). Empty fields are
/// not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTasksQuery {
    /// `queued`, `running`, or both (comma list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `scan`, `audit` (comma list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// An email, or `Schedule`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiator: Option<String>,
    /// `device`, `segment`, `cloud_resource` (comma list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// The search text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The sort key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Page size, 1..1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `GET /api/v1/sites/{site}/active-tasks`: one page of queued and running tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveTasksPage {
    /// The page, in the requested order.
    pub tasks: Vec<Task>,
    /// Pass as `cursor` (with the same filters and sort) for the next page; null on the last.
    pub next_cursor: Option<String>,
    /// How many active tasks match the filters.
    pub total: u64,
    /// Queued and running tasks of the whole Site, regardless of filters.
    pub counts: StatusCounts,
    /// The Site's event revision when the page was read.
    pub revision: u64,
}

/// Active task counts of a whole Site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    /// Tasks waiting for a slot.
    pub queued: u64,
    /// Tasks executing.
    pub running: u64,
}
