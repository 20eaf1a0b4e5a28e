//! Queue statistics: now, and one-minute buckets over the last 24 hours.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// `GET …/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    /// The queue and the slots now.
    pub now: StatsNow,
    /// One-minute buckets, oldest first.
    pub history: Vec<StatsBucket>,
}

/// The queue and the slots now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsNow {
    /// Queued tasks.
    pub queued: u64,
    /// Running tasks.
    pub running: u64,
    /// Slots of all Audit Services.
    pub slots_total: u64,
    /// Busy slots.
    pub slots_busy: u64,
}

/// One minute of history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsBucket {
    /// The minute's start.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// Queued tasks at the end of the minute.
    pub queued: u64,
    /// Running tasks at the end of the minute.
    pub running: u64,
    /// Tasks that finished in the minute.
    pub finished: u64,
    /// Tasks that failed in the minute.
    pub failed: u64,
    /// Tasks cancelled in the minute.
    pub cancelled: u64,
}
