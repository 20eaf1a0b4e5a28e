//! Running tasks from the console — a new scan or audit, "Run again" of
//! ended tasks, "Run again every failed task matching the filter" — and
//! what the window hears of it: progress while the batches go, then a
//! summary that says what was created and what was not.

use serde::{Deserialize, Serialize};
use site_api::TaskId;

/// How far a run has got, sent as [`events::RUN_PROGRESS`](crate::events::RUN_PROGRESS)
/// after each batch and while a 429 is waited out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    /// Tasks created so far.
    pub created: u32,
    /// Tasks asked for.
    pub total: u32,
    /// The Site asked to slow down: the seconds waited before the next try.
    pub waiting_secs: Option<u64>,
}

impl RunProgress {
    /// How far the run has got, as the window says it.
    pub fn sentence(&self) -> String {
        let done = format!(
            "Started {} of {}…",
            grouped(u64::from(self.created)),
            grouped(u64::from(self.total))
        );
        match self.waiting_secs {
            None => done,
            Some(secs) => format!("{done} The Site asked to slow down: waiting {secs} s."),
        }
    }
}

/// What a run did, task by task: the tasks created (in the order asked),
/// and, if it stopped early, why and how many were not created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Tasks asked for.
    pub asked: u32,
    /// The new tasks, in the order asked.
    pub created: Vec<TaskId>,
    /// Why the run stopped before the end (the Site's sentence); the tasks
    /// after the last created one were not created.
    pub failure: Option<String>,
    /// How many times the Site asked to slow down (each waited out).
    pub waits: u32,
}

impl RunSummary {
    /// A summary of nothing done yet, for `asked` tasks.
    pub fn new(asked: usize) -> RunSummary {
        RunSummary {
            asked: u32::try_from(asked).unwrap_or(u32::MAX),
            ..RunSummary::default()
        }
    }

    /// How many were asked for and not created.
    pub fn not_created(&self) -> u32 {
        self.asked
            .saturating_sub(u32::try_from(self.created.len()).unwrap_or(u32::MAX))
    }

    /// Whether every task asked for was created.
    pub fn is_complete(&self) -> bool {
        self.failure.is_none() && self.not_created() == 0
    }

    /// The summary as the window says it.
    pub fn sentence(&self) -> String {
        let created = self.created.len();
        let mut text = match (created, self.asked) {
            (0, 0) => "Nothing to run.".to_owned(),
            (1, 1) => format!("Started {}.", self.created[0]),
            (n, asked) if n as u64 == u64::from(asked) => {
                format!("Started all {} tasks.", grouped(n as u64))
            }
            (n, asked) => format!(
                "Started {} of {} tasks; {} were not started.",
                grouped(n as u64),
                grouped(u64::from(asked)),
                grouped(u64::from(self.not_created()))
            ),
        };
        if let Some(failure) = &self.failure {
            text.push_str(&format!(" It stopped: {failure}"));
        }
        match self.waits {
            0 => {}
            1 => text.push_str(" The Site asked to slow down once; it was waited out."),
            n => text.push_str(&format!(
                " The Site asked to slow down {n} times; each was waited out."
            )),
        }
        text
    }
}

/// `n` with thousands separated by commas: `1,200`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u64) -> Vec<TaskId> {
        (1..=n)
            .map(|i| format!("scan-{i}").parse().expect("an id"))
            .collect()
    }

    #[test]
    fn progress_says_how_far_and_any_wait() {
        let progress = RunProgress {
            created: 1000,
            total: 1200,
            waiting_secs: None,
        };
        assert_eq!(progress.sentence(), "Started 1,000 of 1,200…");
        let waiting = RunProgress {
            waiting_secs: Some(3),
            ..progress
        };
        assert_eq!(
            waiting.sentence(),
            "Started 1,000 of 1,200… The Site asked to slow down: waiting 3 s."
        );
    }

    #[test]
    fn a_complete_run_says_how_many_were_started() {
        let mut summary = RunSummary::new(1200);
        summary.created = ids(1200);
        assert!(summary.is_complete());
        assert_eq!(summary.not_created(), 0);
        assert_eq!(summary.sentence(), "Started all 1,200 tasks.");
        let mut one = RunSummary::new(1);
        one.created = ids(1);
        assert_eq!(one.sentence(), "Started scan-1.");
        assert_eq!(RunSummary::new(0).sentence(), "Nothing to run.");
    }

    #[test]
    fn a_run_that_stopped_says_what_was_done_and_why() {
        let mut summary = RunSummary::new(1200);
        summary.created = ids(1000);
        summary.failure = Some("the Site refused tasks[3]: unknown target type".to_owned());
        summary.waits = 2;
        assert!(!summary.is_complete());
        assert_eq!(summary.not_created(), 200);
        assert_eq!(
            summary.sentence(),
            "Started 1,000 of 1,200 tasks; 200 were not started. It stopped: the Site \
             refused tasks[3]: unknown target type The Site asked to slow down 2 times; \
             each was waited out."
        );
    }
}
