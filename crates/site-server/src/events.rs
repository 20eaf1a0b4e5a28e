//! Site events: every committed change, numbered by the Site's revision.

use site_api::Task;

/// One committed change of a Site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteEvent {
    /// The Site's revision after the change (strictly increasing).
    pub revision: u64,
    /// What changed.
    pub change: Change,
}

/// What an event carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A task was created, picked up, made progress or ended.
    Task(Task),
}
