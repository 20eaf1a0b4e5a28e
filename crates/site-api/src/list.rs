//! The Active tasks list's responses: a page, and (1.1) facet counts.

use serde::{Deserialize, Serialize};

use crate::Task;

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

/// `GET /api/v1/sites/{site}/active-tasks/facets` (1.1): how many of the
/// matching active tasks have each value of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetsResponse {
    /// The field counted.
    pub field: crate::FacetField,
    /// At most 100 values, by count descending, then value ascending (byte-wise).
    pub values: Vec<FacetValue>,
    /// How many active tasks match every filter but the one on `field`.
    pub total: u64,
}

/// One value of a facet and how many tasks have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetValue {
    /// The value as stored (an Audit Service's id for `audit_service`).
    pub value: String,
    /// How many of the tasks have it (never 0).
    pub count: u64,
}

/// The most values a facet lists.
pub const MAX_FACET_VALUES: usize = 100;
