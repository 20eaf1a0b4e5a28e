//! The Active tasks list response.

use serde::{Deserialize, Serialize};

use crate::Task;

/// The page size when a request names none.
pub const DEFAULT_PAGE_LIMIT: u32 = 200;
/// The largest page a client may ask for.
pub const MAX_PAGE_LIMIT: u32 = 1000;

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
