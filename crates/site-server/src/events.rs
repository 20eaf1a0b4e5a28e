//! Site events: every committed change, numbered by the Site's revision.

use site_api::{AuditService, Signal, Task};

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
// Tasks are nearly every change; boxing them would allocate for each one.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    /// A task was created, picked up, made progress or ended.
    Task(Task),
    /// An Audit Service's busy slots or state changed.
    AuditService(AuditService),
    /// A signal came into force.
    Signal(Signal),
}

impl Change {
    /// The SSE event name of the change.
    pub fn event_name(&self) -> &'static str {
        match self {
            Change::Task(_) => site_api::LiveEvent::TASK,
            Change::AuditService(_) => site_api::LiveEvent::AUDIT_SERVICE,
            Change::Signal(_) => site_api::LiveEvent::SIGNAL,
        }
    }

    /// The change an event of `name` with `data` carries, as stored.
    pub fn from_json(name: &str, data: &str) -> Result<Change, String> {
        let parsed = match name {
            site_api::LiveEvent::TASK => serde_json::from_str(data).map(Change::Task),
            site_api::LiveEvent::AUDIT_SERVICE => {
                serde_json::from_str(data).map(Change::AuditService)
            }
            site_api::LiveEvent::SIGNAL => serde_json::from_str(data).map(Change::Signal),
            other => return Err(format!("stored event {other:?} is not an event name")),
        };
        parsed.map_err(|e| format!("stored {name} event: {e}"))
    }

    /// The event's data: the changed object as the contract's JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        match self {
            Change::Task(task) => serde_json::to_string(task),
            Change::AuditService(service) => serde_json::to_string(service),
            Change::Signal(signal) => serde_json::to_string(signal),
        }
    }
}

/// The last events of a Site, for clients resuming with `Last-Event-ID`.
#[derive(Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    events: std::collections::VecDeque<SiteEvent>,
}

/// Where a resuming client stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Resume {
    /// These events came after the client's last one, oldest first.
    Replay(Vec<SiteEvent>),
    /// The buffer no longer holds what the client missed (or the id is
    /// not one this Site gave out): it must refetch.
    Reset,
}

impl ReplayBuffer {
    /// An empty buffer keeping the last `capacity` events.
    pub fn new(capacity: usize) -> ReplayBuffer {
        ReplayBuffer {
            capacity,
            events: std::collections::VecDeque::with_capacity(capacity),
        }
    }

    /// Keeps `event`, dropping the oldest past capacity.
    pub fn push(&mut self, event: SiteEvent) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// What a client that last saw revision `last_seen` missed, given the
    /// Site's revision now is `current`.
    pub fn resume(&self, last_seen: u64, current: u64) -> Resume {
        if last_seen > current {
            return Resume::Reset;
        }
        if last_seen == current {
            return Resume::Replay(Vec::new());
        }
        match self.events.front() {
            // Everything after `last_seen` is still here.
            Some(oldest) if oldest.revision <= last_seen + 1 => Resume::Replay(
                self.events
                    .iter()
                    .filter(|event| event.revision > last_seen)
                    .cloned()
                    .collect(),
            ),
            _ => Resume::Reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(revision: u64) -> SiteEvent {
        let task: Task =
            serde_json::from_str(include_str!("../../site-api/tests/contract/task.json")).unwrap();
        SiteEvent {
            revision,
            change: Change::Task(task),
        }
    }

    fn revisions(resume: Resume) -> Option<Vec<u64>> {
        match resume {
            Resume::Replay(events) => Some(events.iter().map(|e| e.revision).collect()),
            Resume::Reset => None,
        }
    }

    #[test]
    fn replays_what_a_client_missed_while_the_buffer_holds_it() {
        let mut buffer = ReplayBuffer::new(3);
        for revision in 1..=5 {
            buffer.push(event(revision));
        }
        assert_eq!(revisions(buffer.resume(4, 5)), Some(vec![5]));
        assert_eq!(revisions(buffer.resume(2, 5)), Some(vec![3, 4, 5]));
        assert_eq!(revisions(buffer.resume(5, 5)), Some(vec![]));
    }

    #[test]
    fn resets_a_client_that_is_too_far_behind_or_ahead() {
        let mut buffer = ReplayBuffer::new(3);
        for revision in 1..=5 {
            buffer.push(event(revision));
        }
        assert_eq!(
            revisions(buffer.resume(1, 5)),
            None,
            "revision 2 was dropped"
        );
        assert_eq!(
            revisions(buffer.resume(9, 5)),
            None,
            "from another life of the Site"
        );
        let empty = ReplayBuffer::new(3);
        assert_eq!(
            revisions(empty.resume(3, 7)),
            None,
            "restarted: nothing kept"
        );
        assert_eq!(revisions(empty.resume(7, 7)), Some(vec![]));
    }
}
