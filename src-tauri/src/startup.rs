//! How long each step of the app's start took, logged once (info) so a
//! slow start on a user's machine says where its time went: the steps of
//! `setup` in one line ([`Steps`]), then the first time the window asks
//! for the connection and the first list it is sent ([`milestone`]), each
//! in ms since the process's `run` began.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// When `run` began: what every time here is counted from.
static LAUNCHED: OnceLock<Instant> = OnceLock::new();

/// Marks this moment as the app's launch (the first call wins).
pub fn launched() -> Instant {
    *LAUNCHED.get_or_init(Instant::now)
}

/// A moment of the start that is logged the first time it happens.
pub struct Milestone {
    name: &'static str,
    reached: AtomicBool,
}

impl Milestone {
    /// A milestone not reached yet.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            reached: AtomicBool::new(false),
        }
    }
}

/// The window's first reading of the connection (its UI is running).
pub static WINDOW_ASKED: Milestone = Milestone::new("the window's first reading");
/// The first Active tasks list sent to the window.
pub static FIRST_LIST: Milestone = Milestone::new("the first list sent to the window");

/// Logs `milestone` with the ms since launch, the first time only; true
/// if this call was the first.
pub fn milestone(milestone: &Milestone) -> bool {
    if milestone.reached.swap(true, Ordering::Relaxed) {
        return false;
    }
    tracing::info!(
        ms = launched().elapsed().as_millis() as u64,
        "start: {}",
        milestone.name
    );
    true
}

/// Steps of the start, each with the ms since the app's launch.
#[derive(Default)]
pub struct Steps {
    done: Vec<(&'static str, u128)>,
}

impl Steps {
    /// Records that `step` has just finished.
    pub fn done(&mut self, step: &'static str) {
        self.done.push((step, launched().elapsed().as_millis()));
    }

    /// One line: `step N ms, …` in the order the steps finished.
    pub fn summary(&self) -> String {
        self.done
            .iter()
            .map(|(step, ms)| format!("{step} {ms} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Logs the summary.
    pub fn log(&self) {
        tracing::info!(steps = %self.summary(), "start: setup");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_milestone_is_reached_once() {
        let once = Milestone::new("test");
        assert!(milestone(&once), "the first time is logged");
        assert!(!milestone(&once), "the second is not");
    }

    #[test]
    fn the_summary_lists_steps_in_order_with_their_times() {
        let mut steps = Steps::default();
        steps.done("window built");
        steps.done("tray");
        let summary = steps.summary();
        let window = summary.find("window built ").expect("first step");
        let tray = summary.find("tray ").expect("second step");
        assert!(window < tray, "{summary}");
        assert!(summary.ends_with(" ms"), "{summary}");
    }
}
